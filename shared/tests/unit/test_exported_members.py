"""titan_common's public names are a contract with every service: guard them."""

import importlib

import pytest

PUBLIC = {
    "titan_common.models": {
        "BigInt",
        "SignedBigInt",
        "Address",
        "PoolStateV2",
        "PoolStateV3",
        "PoolState",
        "PoolUpdate",
        "BlockComplete",
        "IngestMessage",
        "IngestPool",
        "IngestPoolV2",
        "IngestPoolV3",
        "IngestPoolList",
        "IngestStats",
        "Quote",
        "Opportunity",
        "OpportunityHop",
        "Action",
        "Verification",
        "parse_uint256",
        "parse_int256",
        "parse_address",
    },
    "titan_common.errors": {
        "TitanError",
        "NotFoundError",
        "InvalidInputError",
        "UpstreamUnavailableError",
        "PayloadTooLargeError",
        "OverloadedError",
        "install_error_handlers",
        "error_body",
    },
    "titan_common.settings": {"TitanSettings"},
    "titan_common.logging": {"configure", "get_logger"},
    "titan_common.observability": {"install_observability", "RequestObserver"},
    "titan_common.limits": {"Limits", "InFlightLimit", "BodySizeLimit", "WsMessageLimit"},
    "titan_common.auth": {"ApiKeyGuard"},
    "titan_common.clients": {
        "ServiceClient",
        "ServiceUnavailable",
        "ServiceError",
        "EngineClient",
        "MlClient",
        "IngestClient",
    },
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_exist(module: str) -> None:
    mod = importlib.import_module(module)
    missing = {name for name in PUBLIC[module] if not hasattr(mod, name)}
    assert not missing
