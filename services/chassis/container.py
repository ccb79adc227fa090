"""Runs one service class: dependencies, gRPC server, Kafka handlers, outbox relay, shutdown.

``serve("identifiers")`` is what ``lienthong serve identifiers`` calls. With ``LT_PROCESSES=N``
the parent forks N workers *before* any gRPC or database object exists (grpcio and forked
sessions do not mix); each binds the same port with SO_REUSEPORT and the kernel spreads
connections over them. SIGTERM stops accepting calls, lets in-flight ones finish within
``LT_SHUTDOWN_GRACE_S`` seconds, stops consumers and the relay, and exits 0.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from grpc_health.v1 import health_pb2

from services.chassis import config, logs
from services.chassis.catalog import SERVICES
from services.chassis.consumer import EventConsumer
from services.chassis.db import Database
from services.chassis.dependencies import DependencyProvider, declared_dependencies
from services.chassis.entrypoints import event_handlers, grpc_methods
from services.chassis.grpc_server import build_server, method_handlers
from services.chassis.kafka import make_consumer, make_producer
from services.chassis.outbox import OutboxRelay

log = logging.getLogger("lienthong.container")


def instantiate(service_cls: type, providers: dict[str, DependencyProvider[Any]]) -> Any:
    """Create the service object with every declared dependency injected."""
    instance = service_cls.__new__(service_cls)
    for name, provider in providers.items():
        instance.__dict__[name] = provider.get_dependency()
    init = getattr(instance, "setup", None)
    if callable(init):
        init()
    return instance


class ServiceContainer:
    def __init__(
        self,
        service_cls: type,
        *,
        address: str | None = None,
        threads: int | None = None,
        run_relay: bool | None = None,
        reuse_port: bool = False,
    ) -> None:
        self.service_cls = service_cls
        self.name: str = service_cls.name
        spec = SERVICES.get(self.name)
        self.address = address or (
            f"{config.get(config.GRPC_HOST)}:{spec.port}" if spec else "127.0.0.1:0"
        )
        self.threads = threads or config.get_int(config.GRPC_THREADS)
        self.run_relay = config.get_bool(config.RUN_RELAY) if run_relay is None else run_relay
        self.reuse_port = reuse_port
        self.providers = declared_dependencies(service_cls)
        self.stopping = threading.Event()
        self.threads_running: list[threading.Thread] = []
        self.consumers: list[EventConsumer] = []
        self.server: Any = None
        self.port = 0

    def start(self) -> None:
        for provider in self.providers.values():
            provider.setup(self.name)
        self.instance = instantiate(self.service_cls, self.providers)
        methods = grpc_methods(self.service_cls)
        service_names = sorted({m.full_service_name for m in methods.values()})
        self.server, self.health, self.port = build_server(
            handlers=method_handlers(self.instance, methods),
            service_names=service_names,
            address=self.address,
            threads=self.threads,
            error_statuses=getattr(self.service_cls, "error_statuses", None),
            reuse_port=self.reuse_port,
        )
        self.server.start()
        self._start_consumers()
        if self.run_relay:
            self._start_relays()
        # A process serving from a cache must not answer before its invalidation stream is live.
        for consumer in self.consumers:
            if consumer.broadcast and not consumer.ready.wait(timeout=30):
                log.warning(
                    "broadcast consumer not assigned after 30 s", extra={"topic": consumer.topic}
                )
        for name in ["", *service_names]:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "service started", extra={"address": f"{self.address.rsplit(':', 1)[0]}:{self.port}"}
        )

    def _databases(self) -> list[Database]:
        return [p for p in self.providers.values() if isinstance(p, Database)]

    def _start_consumers(self) -> None:
        handlers = event_handlers(self.service_cls)
        if not handlers:
            return
        databases = self._databases()
        database = databases[0] if databases else None
        max_attempts = config.get_int(config.CONSUMER_MAX_ATTEMPTS)
        dlt = make_producer()
        for method_name, subscriptions in handlers.items():
            for sub in subscriptions:
                group = sub.group or f"{self.name}.{method_name}"
                factory = make_consumer
                if sub.broadcast:
                    group = f"{group}.{socket.gethostname()}.{os.getpid()}"
                    factory = functools.partial(make_consumer, auto_offset_reset="latest")
                consumer = EventConsumer(
                    topic=sub.topic,
                    group=group,
                    handler=getattr(self.instance, method_name),
                    database=None if sub.broadcast else database,
                    consumer_factory=factory,
                    dead_letter_producer=dlt if sub.dead_letter else None,
                    max_attempts=max_attempts,
                    broadcast=sub.broadcast,
                )
                self.consumers.append(consumer)
                self._thread(consumer.run, f"consumer-{sub.topic}")

    def _start_relays(self) -> None:
        for database in self._databases():
            if database.outbox is None or database.engine is None:
                continue
            relay = OutboxRelay(
                database.engine,
                database.outbox,
                make_producer(),
                batch_size=config.get_int(config.OUTBOX_BATCH),
                poll_interval=config.get_float(config.OUTBOX_POLL_S),
            )
            self._thread(relay.run, f"relay-{database.schema}")

    def _thread(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=(self.stopping,), name=name, daemon=True)
        thread.start()
        self.threads_running.append(thread)

    def stop(self, grace: float | None = None) -> None:
        grace = config.get_float(config.SHUTDOWN_GRACE_S) if grace is None else grace
        if self.server is not None:
            self.health.enter_graceful_shutdown()
            self.server.stop(grace).wait(grace + 1)
        self.stopping.set()
        for thread in self.threads_running:
            thread.join(timeout=2)
        for provider in self.providers.values():
            provider.stop()
        log.info("service stopped")


def serve(name: str) -> int:
    """Run a service until SIGTERM/SIGINT; returns the process exit code."""
    SERVICES[name]
    processes = config.get_int(config.PROCESSES)
    if processes > 1:
        return _serve_forked(name, processes)
    return _serve_one(name, reuse_port=False)


def _serve_one(name: str, *, reuse_port: bool) -> int:
    logs.configure(name)
    service_cls = SERVICES[name].load()
    container = ServiceContainer(service_cls, reuse_port=reuse_port)
    done = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal received, shutting down", extra={"signal": signum})
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    container.start()
    print(f"{name} listening on {container.address.rsplit(':', 1)[0]}:{container.port}", flush=True)
    done.wait()
    container.stop()
    return 0


def _serve_forked(name: str, processes: int) -> int:
    children: list[int] = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _serve_one(name, reuse_port=True)
            finally:
                os._exit(code)
        children.append(pid)

    def forward(signum: int, _frame: Any) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    for pid in children:
        _, code = os.waitpid(pid, 0)
        status = status or os.waitstatus_to_exitcode(code)
    sys.stdout.flush()
    return status
