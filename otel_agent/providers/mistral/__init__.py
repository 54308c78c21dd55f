"""The mistralai SDK (chat.complete / chat.stream, sync and async) into neutral records."""
