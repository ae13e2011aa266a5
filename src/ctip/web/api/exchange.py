"""The exchange drop box: another ctip instance (or any transport) posts a ``.ctipx`` here.

``POST /api/exchange/inbox`` takes the package bytes (``application/octet-stream``, at most
``MAX_PACKAGE`` bytes) and answers with the signed receipt (or purge confirmation) to carry
back, or 204 when there is none. No login: the package proves who sent it (signature checked
against the directory) and who may read it (age recipients); everything else about it is
refused with 422 and the reason, and audited. An instance without exchange keys has no drop
box (404).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from ctip.errors import InputFileError, NotFoundError
from ctip.services.exchange_referrals import ExchangeReferrals

router = APIRouter(tags=["exchange"])
MAX_PACKAGE = 256 << 20
DROPBOX_ACTOR = "dropbox@api"


def _exchange(request: Request) -> ExchangeReferrals:
    state = request.app.state
    found = getattr(state, "exchange", None)
    if found is None:
        found = state.exchange = ExchangeReferrals.over(state.casework, state.settings)
    if not found.has_keys():
        raise NotFoundError("This instance has no exchange drop box.",
                            hint="its operator runs `ctip exchange keys init` first")
    return found


@router.post("/exchange/inbox", status_code=200, response_class=Response,
             responses={200: {"content": {"application/octet-stream": {}},
                              "description": "the signed receipt to carry back"},
                        204: {"description": "accepted; nothing to send back"}})
async def inbox(request: Request) -> Response:
    """Receive one exchange package; the answer body is the receipt package."""
    x = _exchange(request)
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_PACKAGE:
        raise InputFileError(f"A package is at most {MAX_PACKAGE >> 20} MB.")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_PACKAGE:
            raise InputFileError(f"A package is at most {MAX_PACKAGE >> 20} MB.")
    got = await run_in_threadpool(x.receive, DROPBOX_ACTOR, bytes(data))
    headers = {"X-Ctip-Package": got.package_id, "X-Ctip-Kind": got.kind}
    if got.reply is None:
        return Response(status_code=204, headers=headers)
    headers["X-Ctip-Reply"] = got.reply.package_id
    return Response(got.reply.data, media_type="application/octet-stream", headers=headers)
