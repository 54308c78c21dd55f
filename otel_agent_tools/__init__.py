"""The operator tools beside the otel-agent library: the CLI (`demo`, `report`, `check`, `stack`), the report, the
demo agent, the local backend stack runner and the local model server.

The library (`otel_agent`) never imports from here; these tools import the library's public parts.
"""
