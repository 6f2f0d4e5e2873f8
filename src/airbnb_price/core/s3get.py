"""S3 GetObject with the standard library: a SigV4-signed HTTP GET.

Why: loading a model is all the function does with S3, and importing boto3 and making its
client cost a cold start about 0.1-0.16 s of 0.4 s (benchmarks/latency.py measures the cold
start both ways in one run). Lambda puts the function's credentials and region in the
environment, so a signed GET needs nothing else. Anything this reader cannot do (no
credentials or region in the environment: a profile, SSO, an instance role) is left to
boto3, which `registry.S3Store` uses then, as it does for every write and listing.

The signature is AWS Signature Version 4 as S3 documents it (`tests/core/test_s3get.py`
holds it equal to botocore's signer); the endpoint honours AWS_ENDPOINT_URL_S3 and
AWS_ENDPOINT_URL as boto3 does (moto's server in tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

#: The SHA-256 of an empty payload: a GET's body.
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: HTTP statuses worth one more try (S3 asks for a retry with them).
RETRIED = frozenset({500, 502, 503, 504})


class S3Failed(RuntimeError):
    """A GET that S3 refused or could not be reached for; `code` is S3's error code (or the
    HTTP status), `missing` says the key or bucket does not exist."""

    def __init__(self, message: str, code: str, missing: bool = False):
        super().__init__(message)
        self.code, self.missing = code, missing


@dataclass(frozen=True)
class Reader:
    """Credentials, region and endpoint as Lambda's environment gives them."""

    key_id: str
    secret: str
    token: str | None
    region: str
    endpoint: str | None

    @classmethod
    def from_environment(cls, env: dict[str, str] | None = None) -> Reader | None:
        """The reader when the environment holds credentials and a region (always so in
        Lambda), else None: boto3's credential chain is then the one to use."""
        env = os.environ if env is None else env
        key_id, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not (key_id and secret and region):
            return None
        return cls(key_id, secret, env.get("AWS_SESSION_TOKEN") or None, region,
                   env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None)

    def url(self, bucket: str, key: str) -> str:
        """Path-style on a configured endpoint or for a bucket with dots (TLS names one label);
        virtual-hosted on AWS otherwise."""
        path = urllib.parse.quote(key, safe="/~")
        if self.endpoint:
            return f"{self.endpoint.rstrip('/')}/{bucket}/{path}"
        if "." in bucket:
            return f"https://s3.{self.region}.amazonaws.com/{bucket}/{path}"
        return f"https://{bucket}.s3.{self.region}.amazonaws.com/{path}"

    def headers(self, url: str, now: dt.datetime) -> dict[str, str]:
        """The signed headers of a GET of `url` at `now` (UTC)."""
        parts = urllib.parse.urlsplit(url)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": parts.netloc, "x-amz-content-sha256": EMPTY_SHA256,
                   "x-amz-date": stamp}
        if self.token:
            headers["x-amz-security-token"] = self.token
        names = ";".join(sorted(headers))
        canonical = "\n".join(["GET", parts.path or "/", parts.query,
                               *(f"{k}:{headers[k]}" for k in sorted(headers)), "", names,
                               EMPTY_SHA256])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = f"AWS4{self.secret}".encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return headers | {"authorization": f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
                                           f"SignedHeaders={names}, Signature={signature}"}

    def get(self, bucket: str, key: str, timeout: float, attempts: int) -> bytes:
        """The object's bytes; S3Failed naming S3's error code otherwise (after `attempts`
        tries for a connection error or a 5xx)."""
        url, attempt = self.url(bucket, key), 1
        while True:
            request = urllib.request.Request(url, headers=self.headers(
                url, dt.datetime.now(dt.UTC)))
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as exc:
                code = _error_code(exc.read()) or str(exc.code)
                if exc.code not in RETRIED or attempt >= attempts:
                    raise S3Failed(code, code, missing=exc.code == 404) from exc
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if attempt >= attempts:
                    raise S3Failed(f"read timeout: no answer from {url} in {timeout:g} s"
                                   if isinstance(reason, TimeoutError) else
                                   f"cannot reach {url}: {reason}", "unreachable") from exc
            attempt += 1


def _error_code(body: bytes) -> str | None:
    """S3's <Code> from an error response's XML."""
    found = re.search(rb"<Code>([^<]+)</Code>", body)
    return found.group(1).decode() if found else None
