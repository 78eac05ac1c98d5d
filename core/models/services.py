"""Models that run as a service elsewhere (an Annif server, an LLM behind an OpenAI-compatible
endpoint): where record texts may go, and one careful way to ask.

Record texts leave this machine only for a host an administrator allowed: loopback (``localhost``,
``127.0.0.0/8``, ``::1``) always; any other host only when ``WORKBENCH_REMOTE_HOSTS`` (host or
host:port, comma-separated) names it. The check runs on every request, so a model folder copied
from elsewhere cannot send texts to a host nobody here chose.

Every request has a timeout and is retried (connection failures, timeouts, 429 and 5xx answers)
with a growing pause; what still fails raises ``ServiceUnavailable``, which a bulk job does not
write into its rows: the job fails as a whole and resumes from its last chunk on retry.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.models.manifest import ModelFolderError

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


class ServiceError(ModelFolderError):
    """The service answered, but not as it should (a wrong project, an unusable answer)."""

    prefix = "Model service problem"


class ServiceUnavailable(ServiceError):
    """No usable answer after the retries: unreachable, too slow, or failing (5xx). ``answered``:
    whether the service answered at all (an HTTP error or garbage) or could not be reached."""

    answered = False


def allowed_remote_hosts(env: dict[str, str] | None = None) -> frozenset[str]:
    raw = (os.environ if env is None else env).get("WORKBENCH_REMOTE_HOSTS", "")
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def is_loopback(host: str) -> bool:
    host = (host or "").strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def destination(url: str) -> str:
    """Where texts sent to ``url`` go, in words (the Models page shows it)."""
    parts = urlsplit(url)
    where = parts.hostname or "?"
    return (f"{parts.scheme}://{parts.netloc} (this machine)" if is_loopback(where)
            else f"{parts.scheme}://{parts.netloc} (another host, allowed by the administrator)")


def check_url(url: str, env: dict[str, str] | None = None, *,
              refusal: str = "record texts may not be sent to") -> str:
    """``url`` if record texts may be sent there (or, with another ``refusal``, whatever the
    request is: records harvested from there), else a ``ServiceError`` saying why."""
    parts = urlsplit(str(url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(f"'{url}' is not an http(s) address")
    if parts.username or parts.password:
        raise ServiceError(f"'{parts.hostname}': put credentials in an environment variable, not in the address")
    host = parts.hostname.lower()
    if is_loopback(host):
        return url.rstrip("/")
    allowed = allowed_remote_hosts(env)
    if host in allowed or f"{host}:{parts.port}" in allowed:
        return url.rstrip("/")
    raise ServiceError(f"{refusal} '{host}': only this machine's services are allowed, "
                       f"unless an administrator names the host in WORKBENCH_REMOTE_HOSTS")


@dataclass(frozen=True)
class Endpoint:
    """An HTTP service and how patiently to ask it."""

    url: str
    what: str  # "Annif server", "LLM endpoint": for messages
    timeout_s: float = 30.0
    retries: int = 2
    api_key_env: str = ""  # the environment variable holding a bearer token, if the service needs one

    @classmethod
    def from_manifest(cls, service: dict[str, Any], what: str) -> "Endpoint":
        try:
            return cls(url=str(service["url"]), what=what, timeout_s=float(service.get("timeout_s") or 30.0),
                       retries=max(0, int(service.get("retries", 2))),
                       api_key_env=str(service.get("api_key_env") or ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFolderError(f"the model folder's 'service' block is incomplete ({exc})") from None


_local = threading.local()


def _session():
    import requests

    if getattr(_local, "session", None) is None:
        _local.session = requests.Session()
        _local.session.trust_env = False  # no proxy from the environment sees the texts
    return _local.session


def request_json(endpoint: Endpoint, method: str, path: str, *, json_body: Any = None, form: dict | None = None,
                 params: dict | None = None, pause_s: float = 0.5) -> Any:
    """The service's JSON answer to one request, retried as the module says."""
    import requests

    url = check_url(endpoint.url) + path
    headers = {"Accept": "application/json"}
    if endpoint.api_key_env:
        token = os.environ.get(endpoint.api_key_env, "")
        if not token:
            raise ServiceError(f"{endpoint.what} {endpoint.url} needs the key in ${endpoint.api_key_env}, "
                               "which is not set")
        headers["Authorization"] = f"Bearer {token}"
    problem, answered = "", False
    for attempt in range(endpoint.retries + 1):
        if attempt:
            time.sleep(pause_s * 2 ** (attempt - 1))
        try:
            response = _session().request(method, url, json=json_body, data=form, params=params, headers=headers,
                                          timeout=(min(5.0, endpoint.timeout_s), endpoint.timeout_s),
                                          allow_redirects=False)
        except requests.Timeout:
            problem = f"no answer within {endpoint.timeout_s:g} s"
            continue
        except requests.ConnectionError as exc:
            reason = str(exc)
            problem = ("nothing listens there" if "refused" in reason.lower()
                       else "the connection broke off" if "aborted" in reason.lower() or "reset" in reason.lower()
                       else "cannot connect")
            continue
        except requests.RequestException as exc:
            problem = f"the request failed ({type(exc).__name__})"
            continue
        answered = True
        if response.status_code == 429 or response.status_code >= 500:
            problem = f"it answered HTTP {response.status_code}"
            continue
        if response.status_code >= 300:
            detail = _detail(response)
            raise ServiceError(f"{endpoint.what} {endpoint.url} refused {path}: HTTP {response.status_code}"
                               + (f" ({detail})" if detail else ""))
        try:
            return response.json()
        except ValueError:
            problem = "it answered something that is not JSON"
            continue
    tries = endpoint.retries + 1
    error = ServiceUnavailable(f"{endpoint.what} {endpoint.url}: {problem} ({tries} tr{'y' if tries == 1 else 'ies'}); "
                               "check that it runs and answers, then retry")
    error.answered = answered
    raise error


def _detail(response) -> str:
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            error = error.get("message")
        return str(data.get("detail") or error or data.get("title") or "")[:200]
    return ""


__all__ = ["Endpoint", "ServiceError", "ServiceUnavailable", "allowed_remote_hosts", "check_url", "destination",
           "is_loopback", "request_json"]
