"""A site's collaborators: add, change the role of, or remove one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParameter
from fastapi.responses import Response

from reconciler.platform.schema import EMAIL_WIRE_SCHEMA, CollaboratorRequest, Site
from reconciler.sandbox.exchange import ok, path_email
from reconciler.sandbox.routes.base import WRITE_ERRORS, WriteRequest, responses
from reconciler.sandbox.store import StoredAnswer, Transaction

router = APIRouter(tags=["collaborators"])

PATH = "/v1/sites/{site_id}/collaborators/{email}"

EmailInPath = Annotated[
    str,
    PathParameter(
        description="The collaborator's e-mail address (compared in lower case)",
        json_schema_extra={k: v for k, v in EMAIL_WIRE_SCHEMA.items() if k != "type"},
    ),
]


@router.put(PATH, response_model=Site, responses=responses(WRITE_ERRORS, 200, etag=True))
def put_collaborator(
    write: WriteRequest, site_id: str, email: EmailInPath, body: CollaboratorRequest
) -> Response:
    """Add a collaborator or change their role (owner or admin collaborator)."""

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        who = write.caller.email
        site = tx.put_collaborator(who, site_id, path_email(email), body.role, version)
        return ok(200, site, site.version)

    return write.run(body, run)


@router.delete(
    PATH,
    status_code=204,
    response_class=Response,
    responses=responses(WRITE_ERRORS, 204, etag=True),
)
def delete_collaborator(write: WriteRequest, site_id: str, email: EmailInPath) -> Response:
    """Remove a collaborator's access (owner or admin collaborator)."""

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        site = tx.delete_collaborator(write.caller.email, site_id, path_email(email), version)
        return ok(204, None, site.version)

    return write.run(None, run)
