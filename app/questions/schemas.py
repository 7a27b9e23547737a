"""Request and response bodies for the question bank."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Input

Text = Annotated[str, Field(min_length=1, max_length=1000)]
Category = Annotated[str, Field(min_length=1, max_length=100,
                                description="One of the handout's three, or a name of your own.")]


class QuestionIn(Input):
    text: Text
    category: Category


class QuestionPatch(Input):
    text: Text | None = None
    category: Category | None = None


class QuestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    text: str
    category: str
    is_default: bool = Field(description="The handout's questions: read-only, shared by everyone.")
    created_at: datetime
    updated_at: datetime
