"""The ollama client (chat, generate, embed; streamed or not) into neutral records."""
