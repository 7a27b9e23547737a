"""ETag on item reads, If-Match on item writes: a stale write is refused with 412."""

from fastapi import Request, Response

from app.errors import AppError


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"
    detail = "This item changed since you read it. Fetch it again, then retry."


def etag(version: int) -> str:
    return f'"v{version}"'


def tag_response(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def check_if_match(request: Request, version: int) -> None:
    """No If-Match means "write anyway"; one that names another version is refused."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return
    sent = {part.strip().removeprefix("W/") for part in header.split(",")}
    if etag(version) not in sent:
        raise PreconditionFailed()
