"""Entry points of the distribution service (CLI, later gRPC and Kafka consumers)."""
