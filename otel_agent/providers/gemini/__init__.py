"""google-genai (the Gemini API and Vertex AI) into neutral records."""
