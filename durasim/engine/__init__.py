"""The durable-execution engine: histories, workflows, the service side and the worker."""
