"""The gateway: the HTTP/JSON API a frontend and agencies' own systems use (issue #7).

It authenticates people (local accounts or an OIDC provider), authorises every request by role
and agency scope, calls the services over gRPC and streams live updates from Kafka as
Server-Sent Events. See docs/gateway.md.
"""
