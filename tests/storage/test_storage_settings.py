"""TEPAT_STORAGE_URL: what it turns into, and the configurations production refuses."""

import os
from importlib.util import find_spec
from pathlib import Path

import pytest

from tepat.env import storage_s3_options

needs_s3 = pytest.mark.skipif(
    (find_spec("storages") is None or find_spec("boto3") is None)
    and os.environ.get("TEPAT_REQUIRE_TOOLS") != "1",  # CI: they must be there
    reason="django-storages and boto3 (tepat[s3]) are not installed",
)


def test_a_minio_url_gives_a_private_bucket_prefix_with_path_addressing() -> None:
    options = storage_s3_options(
        "s3://tepat-uploads/mukomuko?endpoint=https://minio.kab.go.id:9000&region=id-bkl-1",
        access_key="AKIA",
        secret_key="rahasia",
        production=True,
    )
    assert options["bucket_name"] == "tepat-uploads"
    assert options["location"] == "mukomuko"
    assert options["endpoint_url"] == "https://minio.kab.go.id:9000"
    assert options["region_name"] == "id-bkl-1"
    assert options["addressing_style"] == "path"
    assert options["default_acl"] is None  # no ACL header: as private as the bucket
    assert options["file_overwrite"] is False
    assert options["object_parameters"] == {"ContentDisposition": "attachment"}
    assert (options["access_key"], options["secret_key"]) == ("AKIA", "rahasia")


def test_without_keys_the_machine_credentials_are_used_and_kms_encrypts() -> None:
    options = storage_s3_options(
        "s3://tepat?region=ap-southeast-3&sse=aws:kms&kms_key=alias/tepat",
        access_key="",
        secret_key="",
        production=True,
    )
    assert "access_key" not in options
    assert "endpoint_url" not in options
    assert options["location"] == ""
    assert options["object_parameters"] == {
        "ContentDisposition": "attachment",
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "alias/tepat",
    }


@pytest.mark.parametrize(
    ("url", "keys", "complaint"),
    [
        ("s3://b?endpoint=http://minio.kab.go.id:9000", ("a", "b"), "endpoint must be https"),
        ("s3://AKIA:rahasia@b", ("", ""), "must not carry keys"),
        ("s3://b?sse=aes256", ("a", "b"), "sse must be AES256"),  # a typo is not "no encryption"
        ("s3://b?kms_key=alias/x", ("a", "b"), "sse must be AES256"),
        ("s3://b?acl=public-read", ("a", "b"), "unknown or repeated parameter acl"),
        ("s3://b?region=a&region=b", ("a", "b"), "unknown or repeated"),
        ("https://b.s3.amazonaws.com", ("a", "b"), "must look like s3://"),
        ("s3://b", ("a", ""), "go together"),
    ],
)
def test_unsafe_or_mistyped_settings_are_refused(
    url: str, keys: tuple[str, str], complaint: str
) -> None:
    with pytest.raises(RuntimeError, match=complaint):
        storage_s3_options(url, access_key=keys[0], secret_key=keys[1], production=True)


def test_plain_http_is_allowed_outside_production_for_a_local_minio() -> None:
    options = storage_s3_options(
        "s3://b?endpoint=http://127.0.0.1:9000", access_key="", secret_key="", production=False
    )
    assert options["use_ssl"] is False


@needs_s3
@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("s3://tepat/mukomuko?endpoint=https://minio.mukomukokab.go.id&sse=AES256", True),
        ("s3://tepat/mukomuko?endpoint=http://minio.mukomukokab.go.id", False),
    ],
)
def test_production_checks_the_storage_url(url: str, ok: bool, tmp_path: Path) -> None:
    from tests.test_settings import PRODUCTION_ENV, _manage

    keys = tmp_path / "storage-secret"
    keys.write_text("rahasia-dari-berkas\n")
    env = {
        **PRODUCTION_ENV,
        "TEPAT_STORAGE_URL": url,
        "TEPAT_STORAGE_ACCESS_KEY": "tepat",
        "TEPAT_STORAGE_SECRET_KEY_FILE": str(keys),
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert (result.returncode == 0) is ok, result.stderr[-500:]
    if not ok:
        assert "TEPAT_STORAGE_URL: endpoint must be https" in result.stderr
