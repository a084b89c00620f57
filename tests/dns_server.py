"""A tiny authoritative DNS server on a loopback UDP port, built with dnspython's message API,
for the domain check's tests: SRV records for some names, NXDOMAIN under unknown domains,
SERVFAIL or silence for the domains a test wants to fail."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


@dataclass
class DnsServer:
    # Name (no final dot) → SRV records as a zone file writes them: "0 0 443 avatars.example.".
    srv: dict[str, list[str]] = field(default_factory=dict)
    # Domains that exist: any other name is NXDOMAIN.
    domains: set[str] = field(default_factory=set)
    # Domains whose queries get SERVFAIL, or no answer at all.
    failing: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)
    queries: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        # Closing a socket does not wake a thread blocked on it: the loop looks up every 0.1 s.
        self.socket.settimeout(0.1)
        self.port = int(self.socket.getsockname()[1])
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        """What DNS_RESOLVER takes."""
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.closing.set()
        self.thread.join(5)
        self.socket.close()

    def _serve(self) -> None:
        while not self.closing.is_set():
            try:
                wire, client = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            reply = self._answer(dns.message.from_wire(wire))
            if reply is not None:
                self.socket.sendto(reply.to_wire(), client)

    def _answer(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append(f"{name} {dns.rdatatype.to_text(question.rdtype)}")
        if any(self._under(name, domain) for domain in self.silent):
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if any(self._under(name, domain) for domain in self.failing):
            response.set_rcode(dns.rcode.SERVFAIL)
        elif not any(self._under(name, domain) for domain in self.domains):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.SRV and name in self.srv:
            response.answer.append(
                dns.rrset.from_text_list(
                    question.name, 300, dns.rdataclass.IN, dns.rdatatype.SRV, self.srv[name]
                )
            )
        # Otherwise the name exists with nothing of that type (or is an empty non-terminal).
        return response

    @staticmethod
    def _under(name: str, domain: str) -> bool:
        return name == domain or name.endswith("." + domain)
