"""Is a call's server on this machine? Then its model runs on our GPUs and is priced by GPU time, not list price.

Local: loopback addresses (127.0.0.0/8, ::1), ``localhost`` and ``*.localhost``, ``0.0.0.0``/``::``, unix sockets
(``unix:...`` or an absolute path), and this host's own name. ``OTEL_AGENT_GPU_LOCAL_HOSTS`` adds a comma list of
host names, IP addresses or CIDR networks (``gpu-box.lan,10.0.0.7,192.168.1.0/24``); the word ``private`` in that
list counts every private address (RFC 1918, RFC 4193, link-local) as local too. Addresses may carry a scheme, a
port or IPv6 brackets (``http://[::1]:8080``); they are stripped. An entry that is none of these (``10.0.0.0/99``,
``::zz``) is one WARNING line and is left out.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ..config import GPU_LOCAL_HOSTS_ENV, gpu_local_hosts_from_env

LOCAL_HOSTS_ENV = GPU_LOCAL_HOSTS_ENV
log = logging.getLogger("otel_agent")
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_NET = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class LocalHosts:
    names: frozenset[str] = frozenset()
    networks: tuple[_NET, ...] = ()
    private: bool = False

    @classmethod
    def parse(cls, text: str) -> LocalHosts:
        names: set[str] = set()
        networks: list[_NET] = []
        private = False
        for part in (p.strip().lower() for p in text.split(",")):
            if not part:
                continue
            if part == "private":
                private = True
                continue
            try:
                networks.append(ipaddress.ip_network(part.strip("[]"), strict=False))
            except ValueError:
                host = _host_of(part)
                if ("/" in part and "://" not in part) or not _is_host(host):
                    log.warning(
                        "otel-agent: ignoring %r in %s: not a host name, IP address or network", part, LOCAL_HOSTS_ENV
                    )
                    continue
                names.add(host)
        return cls(frozenset(names), tuple(networks), private)


def is_local_endpoint(
    server_address: str | None,
    *,
    extra_hosts: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """True when `server_address` is this machine (or a host the user declared local).

    `extra_hosts` takes the place of ``OTEL_AGENT_GPU_LOCAL_HOSTS`` when given. ``None`` or an empty address is
    not local: we cannot tell where the call went.
    """
    if not server_address:
        return False
    if extra_hosts is None:
        extra_hosts = gpu_local_hosts_from_env(environ)
    return _is_local(server_address.strip(), extra_hosts)


@lru_cache(maxsize=1024)
def _is_local(address: str, extra_hosts: str) -> bool:
    lowered = address.lower()
    if lowered.startswith(("unix:", "unix+", "/")):
        return True
    host = _host_of(lowered)
    if not host:
        return False
    extra = _local_hosts(extra_hosts)
    if host == "localhost" or host.endswith(".localhost") or host in extra.names or host in _own_names():
        return True
    try:
        ip: _IP = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:
        return True
    if extra.private and (ip.is_private or ip.is_link_local):
        return True
    return any(ip in net for net in extra.networks if net.version == ip.version)


@lru_cache(maxsize=16)
def _local_hosts(text: str) -> LocalHosts:
    return LocalHosts.parse(text)


@lru_cache(maxsize=1)
def _own_names() -> frozenset[str]:
    try:
        name = socket.gethostname().lower()
    except OSError:  # pragma: no cover - a host without a name
        return frozenset()
    return frozenset({name, name.split(".")[0]}) if name else frozenset()


def _is_host(host: str) -> bool:
    if _HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host_of(address: str) -> str:
    """The host part of ``scheme://host:port/path``, ``host:port``, ``[v6]:port`` or a bare v6 address."""
    rest = address.split("://", 1)[1] if "://" in address else address
    rest = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    if rest.count(":") == 1:
        rest = rest.split(":", 1)[0]
    return rest.rstrip(".")
