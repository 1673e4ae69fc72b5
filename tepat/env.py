"""Tiny, loud readers for settings that come from the environment.

Each ``NAME`` may also be given as ``NAME_FILE`` (a path whose content is the value), so
secrets can come from systemd credentials or Docker secrets instead of the process
environment.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def env_str(name: str, default: str) -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name, "1" if default else "0").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise RuntimeError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name, "")
    if not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key_load(data_dir: Path, *, required: bool) -> str:
    """Return SECRET_KEY from the environment, or the demo's key kept in the data dir.

    Production must set it explicitly: a key generated on one node would differ on the
    next and silently log everybody out.
    """
    key = env_str("SECRET_KEY", "")
    if key:
        if len(key) < 50:
            raise RuntimeError("SECRET_KEY must be at least 50 characters long")
        return key
    if required:
        raise RuntimeError("SECRET_KEY (or SECRET_KEY_FILE) must be set when TEPAT_ENV=production")
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(64))
    return key_file.read_text(encoding="utf-8").strip()


# What TEPAT_STORAGE_URL may say after the "?": the S3 endpoint of a MinIO, Garage or cloud
# object store (none: AWS itself), its region, path- or virtual-host-style addressing, and
# server-side encryption (AES256, or aws:kms with kms_key).
STORAGE_URL_PARAMETERS = frozenset({"endpoint", "region", "addressing", "sse", "kms_key"})


def storage_s3_options(
    url: str, *, access_key: str, secret_key: str, production: bool
) -> dict[str, object]:
    """The django-storages S3 options for ``s3://bucket/prefix?endpoint=…&region=…``.

    Loud about everything that would leak the files or the keys: keys in the URL (they would
    show in process listings and logs; they come from TEPAT_STORAGE_ACCESS_KEY/_SECRET_KEY or
    their _FILE), an unknown parameter (a typo would silently drop encryption), and in
    production an endpoint over plain HTTP. Objects get no ACL of their own (private, as the
    bucket is) and are never handed out by URL.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    if parts.scheme != "s3" or not parts.hostname:
        raise RuntimeError("TEPAT_STORAGE_URL must look like s3://bucket/prefix?endpoint=https://…")
    if parts.username or parts.password:
        raise RuntimeError(
            "TEPAT_STORAGE_URL must not carry keys: set TEPAT_STORAGE_ACCESS_KEY and "
            "TEPAT_STORAGE_SECRET_KEY (or their _FILE variants)"
        )
    unknown = sorted(set(query) - STORAGE_URL_PARAMETERS)
    if unknown or any(len(values) != 1 for values in query.values()):
        raise RuntimeError(
            f"TEPAT_STORAGE_URL: unknown or repeated parameter {', '.join(unknown) or '?'}; "
            f"known: {', '.join(sorted(STORAGE_URL_PARAMETERS))}"
        )
    given = {name: values[0] for name, values in query.items()}
    options: dict[str, object] = {
        "bucket_name": parts.netloc,
        "location": parts.path.strip("/"),
        "region_name": given.get("region") or None,
        "signature_version": "s3v4",
        "default_acl": None,  # no x-amz-acl header: the object is as private as the bucket
        "querystring_auth": True,  # a URL, if ever made, is signed and short-lived
        "querystring_expire": 60,
        "file_overwrite": False,  # as on the filesystem: a taken name gets a suffix
    }
    endpoint = given.get("endpoint", "")
    if endpoint:
        scheme = urlsplit(endpoint).scheme
        if (
            scheme not in ({"https"} if production else {"https", "http"})
            or not urlsplit(endpoint).hostname
        ):
            raise RuntimeError(
                "TEPAT_STORAGE_URL: endpoint must be https://… (plain http would carry the "
                "selfies, the evidence and the keys' signatures in clear)"
            )
        options["endpoint_url"] = endpoint
        options["use_ssl"] = scheme == "https"
    addressing = given.get("addressing", "path" if endpoint else "auto")
    if addressing not in {"path", "virtual", "auto"}:
        raise RuntimeError("TEPAT_STORAGE_URL: addressing must be path or virtual")
    options["addressing_style"] = addressing
    sse = given.get("sse", "")
    if sse not in {"", "AES256", "aws:kms"} or (given.get("kms_key") and sse != "aws:kms"):
        raise RuntimeError("TEPAT_STORAGE_URL: sse must be AES256 or aws:kms (with kms_key)")
    # Even if the bucket were exposed by mistake, a browser would download, never render.
    object_parameters = {"ContentDisposition": "attachment"}
    if sse:
        object_parameters["ServerSideEncryption"] = sse
    if given.get("kms_key"):
        object_parameters["SSEKMSKeyId"] = given["kms_key"]
    options["object_parameters"] = object_parameters
    if bool(access_key) != bool(secret_key):
        raise RuntimeError(
            "TEPAT_STORAGE_ACCESS_KEY and TEPAT_STORAGE_SECRET_KEY go together (or neither: "
            "the machine's own credentials, e.g. an instance role)"
        )
    if access_key:
        options["access_key"] = access_key
        options["secret_key"] = secret_key
    return options
