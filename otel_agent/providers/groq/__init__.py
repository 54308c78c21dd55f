"""The groq SDK (Stainless-generated, like openai\x27s): its client request() and OpenAI-shaped bodies."""
