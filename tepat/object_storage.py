"""The private files in an S3-compatible object store (MinIO, Garage, a cloud's S3), for
several application nodes (docs/deploy.md, "Several application nodes").

Only loaded when ``TEPAT_STORAGE_URL`` names a bucket (settings.py; ``pip install
tepat[s3]``). It is django-storages' S3 backend with Tepat's two promises kept: no stored file
is ever handed to a browser by URL (``url`` refuses; downloads go through
``tepat.uploads.private_download`` after the view checked who may see the file), and a
download streams the object as it arrives instead of copying it whole into the worker first.
"""

from collections.abc import Iterator
from typing import IO, Any, NoReturn

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class PrivateS3Storage(S3Storage):  # type: ignore[misc]  # django-storages ships no types
    def url(self, name: str | None, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(
            "Tepat hands out no URL of a stored file: serve it with tepat.uploads.private_download"
        )

    def stream(self, name: str) -> tuple[IO[bytes], int]:
        """The object's body, read as it arrives from the store, and its size in bytes."""
        key = self._normalize_name(clean_name(name))
        try:
            answer = self.bucket.Object(key).get()
        except ClientError as error:
            if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
                raise FileNotFoundError(f"not stored: {name}") from None
            raise
        return answer["Body"], int(answer["ContentLength"])

    def names(self) -> Iterator[tuple[str, int]]:
        """Every stored file (name as ``save`` returned it, size), in one flat listing: a
        directory walk would cost one request per employee's folder."""
        prefix = self._normalize_name("")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        pages = self.connection.meta.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket_name, Prefix=prefix
        )
        for page in pages:
            for entry in page.get("Contents", ()):
                if not entry["Key"].endswith("/"):
                    yield entry["Key"][len(prefix) :], int(entry["Size"])
