"""Response bodies for imports."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Target = Literal["contacts", "directory"]
Format = Literal["auto", "csv", "linkedin", "google", "vcard", "json"]


class RowErrorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    row: int = Field(description="The line a spreadsheet shows (the header is line 1).")
    field: str
    value: str
    message: str


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    target: Target
    format: str
    filename: str
    dry_run: bool
    status: Literal["running", "completed", "failed"]
    mapping: dict[str, str] = Field(description="Each column of the file, and the field it fills "
                                                "(empty: not imported).")
    created: int
    updated: int
    unchanged: int
    skipped: int
    lines_done: int = Field(description="The last line read and written.")
    problem: str = Field(description="Why the file stopped, when it did.")
    errors: list[RowErrorOut] = Field(description="The rows that did not go in (the first 1,000).")
    errors_total: int
    errors_csv: str = Field(description="The failed rows as CSV with a reason column.")
    created_at: datetime
    finished_at: datetime | None
