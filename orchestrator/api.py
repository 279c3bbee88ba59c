"""Every HTTP router, in one place."""

from __future__ import annotations

from fastapi import APIRouter

from orchestrator.activity.endpoints import router as activity_router
from orchestrator.calls.endpoints import router as calls_router
from orchestrator.campaigns.append_endpoints import router as campaigns_append_router
from orchestrator.campaigns.endpoints import router as campaigns_router
from orchestrator.campaigns.export_endpoints import router as campaign_export_router
from orchestrator.campaigns.v2_endpoints import router as campaigns_v2_router
from orchestrator.chats.endpoints import router as chats_router
from orchestrator.dashboard.endpoints import router as dashboard_router
from orchestrator.decisions.endpoints import router as decisions_router
from orchestrator.events.endpoints import router as events_router
from orchestrator.metrics.endpoints import router as metrics_router
from orchestrator.phone_numbers.endpoints import router as phone_numbers_router
from orchestrator.policy.endpoints import router as policy_router
from orchestrator.sessions.endpoints import router as sessions_router
from orchestrator.suppression.endpoints import router as suppression_router

api_router = APIRouter()
api_router.include_router(campaigns_router)
api_router.include_router(campaigns_append_router)
api_router.include_router(campaigns_v2_router)
api_router.include_router(campaign_export_router)
api_router.include_router(decisions_router)
api_router.include_router(calls_router)
api_router.include_router(phone_numbers_router)
api_router.include_router(events_router)
api_router.include_router(metrics_router)
api_router.include_router(policy_router)
api_router.include_router(suppression_router)
api_router.include_router(chats_router)
api_router.include_router(sessions_router)
api_router.include_router(activity_router)
api_router.include_router(dashboard_router)
