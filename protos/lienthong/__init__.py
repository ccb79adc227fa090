"""Generated protobuf/gRPC stubs of LiênThông's contracts live below this package.

Only this file is committed; `make proto` writes `lienthong/<service>/v1/*_pb2*.py` next to the
`.proto` files they come from.
"""
