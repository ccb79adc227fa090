"""Entry points of the signing service (CLI; gRPC servicer later)."""
