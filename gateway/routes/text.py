"""Constraints shared by the routes' text inputs."""

# Printable text: no C0 control characters except tab, line feed and carriage return, no DEL.
# PostgreSQL refuses NUL in text, and control characters have no place in a subject or a note;
# refusing them here gives a 422 naming the field instead of a failure deep in a service.
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
TOKEN = r"^[A-Za-z0-9_.=-]*$"  # page tokens and refresh tokens the gateway or a service made
USERNAME = r"^[A-Za-z0-9._-]{1,64}$"
