"""The ML service's settings: the shared base plus the `ML_*` fields, read once in `main`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from titan_common.settings import TitanSettings

BASE_FEE_FILE = "may_2023_pepe_crisis_data.csv"
POOL_FILES = (
    "ethereum-0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640-2024-01-05.pool.tick.csv",
    "ethereum-0x8ad599c3a0ff1de082011efddc58f1908eb6e6d8-2024-01-05.pool.tick.csv",
)


class MlSettings(TitanSettings):
    """Everything the ML service reads from the environment (see the README's table)."""

    ml_port: int = Field(8003, ge=0, le=65535)
    ml_bind_addr: str = "127.0.0.1"
    # HTTP requests in flight past which the service answers 503 with Retry-After.
    ml_max_in_flight: int = Field(64, ge=1)
    # Models, metrics, collected fee history and training data live here (git-ignored).
    ml_data_dir: Path = Path("./data")
    # Forecast horizons 1..ml_max_horizon blocks ahead.
    ml_max_horizon: int = Field(5, ge=2, le=20)
    # Blocks of fee history asked of the chain per forecast (the model needs 33).
    ml_fee_history_blocks: int = Field(64, ge=33, le=1024)
    # A fetched fee history is reused this long (seconds) before asking the chain again.
    ml_fee_history_ttl: float = Field(1.0, ge=0)
    ml_rpc_timeout: float = Field(2.0, gt=0)
    # Follow the chain's new heads (CHAIN_WS_URL) and bring the fee history to each block as
    # it arrives, so a forecast request finds it in hand; false: fetch on request only.
    ml_follow_heads: bool = True
    # ML_AUTO_RETRAIN=true: retrain this often (seconds), from collected history when present.
    ml_retrain_interval: float = Field(3600.0, gt=0)
    # Blocks of fee history collected from the chain before each scheduled retraining.
    ml_collect_blocks: int = Field(2048, ge=0)
    ml_train_episodes: int = Field(400, ge=1)
    # The agent also learns from the scanner's opportunities replayed on their chain
    # (`titan replay` writes ML_DATA_DIR/rl_replay.csv): the newest this many; 0: none.
    ml_rl_replay_max: int = Field(2000, ge=0)
    # The devnet market's landing model: "assumed", or "paper_trades" (fitted on the scanner's
    # paper trades, ML_DATA_DIR/paper_trades.csv, when there are enough). The fit is reported
    # either way (rl_metrics.json: markets.scanner_replay.landing.measured).
    ml_rl_landing: Literal["assumed", "paper_trades"] = "assumed"
    ml_seed: int = 7

    @model_validator(mode="after")
    def _models_dir_inside_data(self) -> MlSettings:
        if str(self.ml_data_dir).strip() == "":
            raise ValueError("ML_DATA_DIR must not be empty")
        return self

    @property
    def models_dir(self) -> Path:
        return self.ml_data_dir / "models"

    @property
    def base_fee_file(self) -> Path:
        return self.shared_data_dir / BASE_FEE_FILE

    @property
    def pool_files(self) -> tuple[Path, Path]:
        return (self.shared_data_dir / POOL_FILES[0], self.shared_data_dir / POOL_FILES[1])

    @property
    def collected_history_file(self) -> Path:
        return self.ml_data_dir / "fee_history.csv"

    @property
    def rl_replay_file(self) -> Path:
        return self.ml_data_dir / "rl_replay.csv"

    @property
    def paper_trades_file(self) -> Path:
        """The scanner's paper trades (`titan paper-trades`): the landing model of its market."""
        return self.ml_data_dir / "paper_trades.csv"
