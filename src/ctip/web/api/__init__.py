"""The REST API under /api (OpenAPI schema at /openapi.json)."""

from __future__ import annotations

from fastapi import APIRouter

from ctip.web.api import admin, cases, exchange, referrals

router = APIRouter(prefix="/api")
router.include_router(admin.router)
router.include_router(cases.router)
router.include_router(cases.indicators_router)
router.include_router(referrals.router)
router.include_router(exchange.router)
