"""Test doubles for the external systems the program talks to (a fake pachd gRPC server)."""
