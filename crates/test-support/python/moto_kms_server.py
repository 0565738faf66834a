#!/usr/bin/env python3
"""moto's AWS KMS server, corrected for the tests of cosign-rs (started by test-support's `Moto`).

Why this file exists
--------------------
AWS KMS `Sign` with `MessageType=DIGEST` signs the given digest as it is. moto (checked: 5.2.1 and
5.2.5, the newest on PyPI when this was written; its docstring says "not yet implemented") ignores
MessageType and hashes the digest once more. Its own `Verify` agrees with itself, but the signature
does not verify against the public key with openssl or with any other verifier, which is exactly
what cosign does. sigstore's awskms client (and ours) always sends DIGEST, so plain moto would make
every correct client fail. This launcher fixes moto IN MEMORY at start-up (no file of moto is
changed) so that the tests exercise the real protocol against an AWS-like server; the client under
test is never bent to fit moto.

What it changes, and adds, for the tests:
  * `Sign` with `MessageType=DIGEST`: the digest is signed as a prehash, as AWS does; a digest whose
    length does not match the signing algorithm's hash is a `ValidationException`, as in AWS.
    RSASSA-PSS uses a salt as long as the digest (AWS's choice). RAW requests go to moto unchanged.
  * `--check-sigv4 ACCESS_KEY_ID:SECRET`: every KMS request must carry a valid AWS Signature
    Version 4 for those credentials (recomputed with botocore, an implementation independent of
    ours); a missing or wrong signature is answered like AWS does (400 `IncompleteSignatureException`
    / `InvalidSignatureException`). Plain moto accepts any signature.
  * One line per KMS request on stdout, `KMS-REQUEST <X-Amz-Target> <status> <start> <end>`
    (monotonic seconds), so tests and `bench/kms.sh` can count requests and see how many were
    in flight at once.

Usage: moto_kms_server.py [--check-sigv4 AKID:SECRET] <moto_server arguments: -H 127.0.0.1 -p PORT -c CERT -k KEY>
"""
import base64
import hmac
import io
import json
import sys
import threading
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.kms import responses as kms_responses
from moto.kms.exceptions import ValidationException
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

# --- Sign with MessageType=DIGEST ---------------------------------------------------------------

_HASHES = {
    "ECDSA_SHA_256": hashes.SHA256,
    "ECDSA_SHA_384": hashes.SHA384,
    "ECDSA_SHA_512": hashes.SHA512,
    "RSASSA_PKCS1_V1_5_SHA_256": hashes.SHA256,
    "RSASSA_PKCS1_V1_5_SHA_384": hashes.SHA384,
    "RSASSA_PKCS1_V1_5_SHA_512": hashes.SHA512,
    "RSASSA_PSS_SHA_256": hashes.SHA256,
    "RSASSA_PSS_SHA_384": hashes.SHA384,
    "RSASSA_PSS_SHA_512": hashes.SHA512,
}

_moto_sign = kms_responses.KmsResponse.sign


def _sign_prehashed(crypto_key, digest, algorithm):
    hash_cls = _HASHES.get(algorithm)
    if hash_cls is None:
        raise ValidationException(f"signing algorithm {algorithm} cannot sign a digest here")
    h = hash_cls()
    if len(digest) != h.digest_size:
        raise ValidationException(
            f"Digest is invalid length for algorithm {algorithm}: "
            f"got {len(digest)} bytes, expected {h.digest_size}")
    if algorithm.startswith("ECDSA_"):
        return crypto_key.sign(digest, ec.ECDSA(Prehashed(h)))
    if algorithm.startswith("RSASSA_PSS_"):
        pad = padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
    else:
        pad = padding.PKCS1v15()
    return crypto_key.sign(digest, pad, Prehashed(h))


def _sign(self):
    if self._get_param("MessageType") != "DIGEST":
        return _moto_sign(self)
    key_id = self._get_param("KeyId")
    digest = self._get_param("Message")
    algorithm = self._get_param("SigningAlgorithm")
    self._validate_key_id(key_id)
    key = self.kms_backend.describe_key(key_id)
    if key.key_usage != "SIGN_VERIFY":
        raise ValidationException(f"key {key.id} has usage {key.key_usage}, not SIGN_VERIFY")
    if algorithm not in (key.signing_algorithms or []):
        raise ValidationException(
            f"Value '{algorithm}' at 'SigningAlgorithm' must be one of {key.signing_algorithms}")
    if isinstance(digest, str):  # moto base64-decodes Message before we see it
        digest = digest.encode("utf-8")
    signature = _sign_prehashed(key.private_key.private_key, digest, algorithm)
    return json.dumps({
        "KeyId": key.arn,
        "Signature": base64.b64encode(signature).decode("ascii"),
        "SigningAlgorithm": algorithm,
    })


kms_responses.KmsResponse.sign = _sign

# --- SigV4 check and request log ----------------------------------------------------------------

_EXPECTED = None  # (access key id, secret) when --check-sigv4 is given
_LOG_LOCK = threading.Lock()


def _log(target, code, start):
    # One write per line under a lock: requests are served on many threads at once.
    line = f"KMS-REQUEST {target} {code} {start:.6f} {time.monotonic():.6f}\n"
    with _LOG_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


def _sigv4_problem(environ, body):
    """None when the request carries a valid SigV4 signature for _EXPECTED, else why not."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "IncompleteSignatureException", "missing AWS4-HMAC-SHA256 Authorization header"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    akid, date, region, service, term = fields["Credential"].split("/")
    if akid != _EXPECTED[0]:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    if service != "kms" or term != "aws4_request":
        return "InvalidSignatureException", f"credential scope names service {service!r}"
    amz_date = environ.get("HTTP_X_AMZ_DATE", "")
    if not amz_date.startswith(date):
        return "InvalidSignatureException", "X-Amz-Date does not match the credential scope date"
    signed = fields["SignedHeaders"].split(";")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            return "InvalidSignatureException", f"{required} is not signed"
    headers = {}
    for name in signed:
        # WSGI keeps Content-Type and Content-Length out of the HTTP_ namespace (the Go SDK
        # signs content-length; botocore does not).
        special = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
        key = special.get(name, "HTTP_" + name.upper().replace("-", "_"))
        if key not in environ:
            return "InvalidSignatureException", f"signed header {name} is missing"
        headers[name] = environ[key]
    scheme = environ.get("wsgi.url_scheme", "https")
    url = f"{scheme}://{environ['HTTP_HOST']}{environ.get('PATH_INFO', '/')}"
    if environ.get("QUERY_STRING"):
        url += "?" + environ["QUERY_STRING"]
    request = AWSRequest(method=environ["REQUEST_METHOD"], url=url, data=body, headers=headers)
    request.context["timestamp"] = amz_date
    token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
    signer = SigV4Auth(Credentials(_EXPECTED[0], _EXPECTED[1], token), "kms", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, fields["Signature"]):
        return "InvalidSignatureException", (
            "The request signature we calculated does not match the signature you provided.")
    return None


_moto_call = DomainDispatcherApplication.__call__


def _call(self, environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/moto-api"):
        return _moto_call(self, environ, start_response)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    target = environ.get("HTTP_X_AMZ_TARGET", "-")
    start = time.monotonic()
    if _EXPECTED is not None:
        problem = _sigv4_problem(environ, body)
        if problem is not None:
            _log(target, 400, start)
            kind, message = problem
            payload = json.dumps({"__type": kind, "message": message}).encode()
            start_response("400 Bad Request", [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(payload))),
            ])
            return [payload]

    def recording_start_response(status, headers, exc_info=None):
        _log(target, status.split(" ", 1)[0], start)
        return start_response(status, headers, exc_info)

    return _moto_call(self, environ, recording_start_response)


DomainDispatcherApplication.__call__ = _call

if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--check-sigv4":
        akid, _, secret = args[1].partition(":")
        _EXPECTED = (akid, secret)
        args = args[2:]
    from moto.server import main

    main(args)
