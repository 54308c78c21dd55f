"""otel-agent: OpenTelemetry for LLM agents."""
