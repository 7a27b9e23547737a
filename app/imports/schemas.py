"""Response bodies for imports."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Target = Literal["contacts", "directory"]
Format = Literal["auto", "csv", "linkedin", "google", "vcard", "json", "xlsx"]


class RowErrorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    row: int = Field(description="The line a spreadsheet shows (the header is line 1).")
    field: str
    value: str
    message: str


class ConflictOut(BaseModel):
    row: int = Field(description="The line a spreadsheet shows (the header is line 1).")
    field: str = Field(description="The key the row matched by: external_id, email or linkedin_url.")
    value: str = Field(description="The key's value.")
    contact_id: str = Field(description="Your contact with that key, left as it was.")
    contact_name: str
    row_name: str = Field(description="The name the file gives.")
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
    conflicts: list[ConflictOut] = Field(
        description="Rows whose email, LinkedIn address or external id is a contact of yours with "
                    "a clearly different name: nothing was changed (the first 1,000).")
    conflicts_total: int
    warnings: list[RowErrorOut] = Field(
        description="Values left out of rows that went in (the first 1,000).")
    warnings_total: int
    encoding: str = Field(description="The character encoding the file was read in, e.g. "
                                      "UTF-8 or Windows-1252.")
    created_at: datetime
    finished_at: datetime | None
