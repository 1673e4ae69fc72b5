"""A phone as the PWA is one: an ECDSA P-256 key, a sequence counter, signed check-ins."""

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client

from tests.world import PASSWORD


@dataclass
class Phone:
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    seq: int = 0
    token: str = ""
    client: Client = field(default_factory=Client)

    @property
    def public_key(self) -> str:
        der = self.key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode()

    def login(self, nip: str, password: str = PASSWORD) -> Any:
        response = self.client.post(
            "/api/v1/auth/token",
            {
                "nip": nip,
                "password": password,
                "device": {"public_key": self.public_key, "label": "Tes"},
            },
            content_type="application/json",
        )
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    def checkin(
        self,
        lat: float,
        lng: float,
        *,
        kind: str = "in",
        taken_at: datetime | None = None,
        accuracy: float = 12.0,
        id: str | None = None,
        sign: bool = True,
        selfie_bytes: bytes | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        from django.utils import timezone

        self.seq += 1
        when = (taken_at or timezone.now()).isoformat()
        item: dict[str, Any] = {
            "id": id or str(uuid.uuid4()),
            "kind": kind,
            "taken_at": when,
            "latitude": lat,
            "longitude": lng,
            "accuracy_m": accuracy,
            "position_at": when,
            "seq": self.seq,
            **extra,
        }
        parts = [
            item["id"],
            kind,
            when,
            f"{lat:.6f}",
            f"{lng:.6f}",
            f"{accuracy:.1f}",
            str(self.seq),
        ]
        if selfie_bytes is not None:
            item["selfie"] = base64.b64encode(selfie_bytes).decode()
            parts.append(hashlib.sha256(selfie_bytes).hexdigest())
        if sign:
            text = "|".join(parts)
            der = self.key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            item["signature"] = base64.b64encode(
                r.to_bytes(32, "big") + s.to_bytes(32, "big")
            ).decode()
        return item

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            path,
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
        )

    def send(self, item: dict[str, Any]) -> Any:
        return self.post("/api/v1/presence/checkins", item)

    def get(self, path: str) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.token}"})


def minutes_ago(n: float) -> datetime:
    from django.utils import timezone

    return timezone.now() - timedelta(minutes=n)
