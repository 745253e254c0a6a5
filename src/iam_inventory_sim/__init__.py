"""An embedded AWS simulator (moto on loopback + a fault layer) for the demo, the tests and the benchmark."""

from iam_inventory_sim.clock import SimClock
from iam_inventory_sim.demo_accounts import demo_estate
from iam_inventory_sim.estate import (
    DEMO_EXTERNAL_ID,
    HUB_ACCOUNT_ID,
    AccountSpec,
    KeySpec,
    UserSpec,
    expected_findings,
)
from iam_inventory_sim.fault_layer import Fault, FaultLayer, SimRequest
from iam_inventory_sim.moto_state import backdate_key, set_password_dates, set_root_credentials
from iam_inventory_sim.seed import admin_client, seed_estate, seed_organization
from iam_inventory_sim.server import Simulator, running_simulator

__all__ = [
    "DEMO_EXTERNAL_ID",
    "HUB_ACCOUNT_ID",
    "AccountSpec",
    "Fault",
    "FaultLayer",
    "KeySpec",
    "SimClock",
    "SimRequest",
    "Simulator",
    "UserSpec",
    "admin_client",
    "backdate_key",
    "demo_estate",
    "expected_findings",
    "running_simulator",
    "seed_estate",
    "seed_organization",
    "set_password_dates",
    "set_root_credentials",
]
