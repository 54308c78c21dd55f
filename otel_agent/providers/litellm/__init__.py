"""LiteLLM: every provider behind `litellm.completion` / `acompletion`, as one turn each."""
