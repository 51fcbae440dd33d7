"""Publish a release to the Hugging Face Hub: one commit, then the tag ``vX.Y.Z``.

The export is uploaded with ``HfApi.upload_folder`` in a single commit and that commit is
tagged; an existing tag is refused (a published release is immutable). The token comes from
``HF_TOKEN`` or the ``huggingface-cli login`` store and is never printed. Without a token, or
with ``dry_run``, nothing is sent and the report says what would be.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.hub.export import ExportedFile, export_release
from claimwire.hub.network import bounded, failure, within_deadline
from claimwire.names import check_repo_id
from claimwire.outputs import EXPORT_MARKER


@dataclass
class PublishReport:
    repo_id: str
    tag: str
    files: list[ExportedFile]
    sent: bool
    reason: str = ""
    commit: str | None = None
    url: str | None = None
    notes: list[str] = field(default_factory=list)


def _token() -> str | None:
    from huggingface_hub import get_token

    return os.environ.get("HF_TOKEN") or get_token()


def publish(
    release_path: Path,
    repo_id: str,
    *,
    private: bool = False,
    dry_run: bool = False,
    endpoint: str | None = None,
) -> PublishReport:
    check_repo_id(repo_id)
    version = open_release(release_path).version
    tag = f"v{version}"
    token = _token()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        files = export_release(release_path, folder, repo_id=repo_id)
        if dry_run or not token:
            reason = "dry run" if dry_run else "no token (set HF_TOKEN or run `hf auth login`)"
            return PublishReport(repo_id, tag, files, sent=False, reason=reason)
        return _upload(folder, repo_id, tag, files, private, token, endpoint)


def _transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP client's connection errors (huggingface_hub's client library varies)."""
    errors: list[type[Exception]] = []
    for module in ("httpx2", "httpx", "requests"):
        try:
            imported = __import__(module)
        except ImportError:
            continue
        for name in ("TransportError", "ConnectionError"):
            error = getattr(imported, name, None)
            if isinstance(error, type) and issubclass(error, Exception):
                errors.append(error)
    return tuple(errors)


def _upload(
    folder: Path,
    repo_id: str,
    tag: str,
    files: list[ExportedFile],
    private: bool,
    token: str,
    endpoint: str | None,
) -> PublishReport:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    bounded()
    api = HfApi(endpoint=endpoint, token=token)
    unreachable: tuple[type[BaseException], ...] = (OSError, *_transport_errors())
    with within_deadline(f"hub publish to {repo_id}", (token,)):
        try:
            repo = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            refs = api.list_repo_refs(repo_id, repo_type="dataset")
            if any(ref.name == tag for ref in refs.tags):
                raise ClaimwireError(
                    f"{repo_id} already has tag {tag}: a published release is never rewritten; "
                    "build a new version"
                )
            commit = api.upload_folder(
                folder_path=str(folder),
                repo_id=repo_id,
                repo_type="dataset",
                commit_message=f"claimwire release {tag}",
                commit_description=f"Corpus release {tag}, exported by claimwire.",
                ignore_patterns=[EXPORT_MARKER],
            )
            api.create_tag(
                repo_id,
                tag=tag,
                revision=commit.oid,
                repo_type="dataset",
                tag_message=f"claimwire corpus release {tag}",
            )
        except HfHubHTTPError as error:
            raise ClaimwireError(failure(error, "the Hub refused the request", (token,))) from None
        except unreachable as error:  # connection refused, DNS, TLS, no answer in time…
            raise ClaimwireError(
                failure(error, f"cannot reach the Hub at {api.endpoint}", (token,))
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as error:  # garbage answers
            raise ClaimwireError(
                failure(error, f"unexpected answer from the Hub at {api.endpoint}", (token,))
            ) from None
    return PublishReport(repo_id, tag, files, sent=True, commit=commit.oid, url=str(repo))
