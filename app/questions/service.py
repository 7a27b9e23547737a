"""The rules of the question bank: everyone reads the handout's questions; each student
writes only their own."""

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, NotFound
from app.models import Question, User
from app.models.question import CATEGORIES
from app.pagination import Order, paginate
from app.questions.schemas import QuestionIn, QuestionPatch


def _visible(owner: User) -> ColumnElement[bool]:
    return or_(Question.owner_id.is_(None), Question.owner_id == owner.id)


def get_question(db: Session, owner: User, question_id: str) -> Question:
    question = db.get(Question, question_id)
    if question is None or question.owner_id not in (None, owner.id):
        raise NotFound("There is no question with this id.")
    return question


def own_question(db: Session, owner: User, question_id: str) -> Question:
    question = get_question(db, owner, question_id)
    if question.is_default:
        raise Forbidden("The handout's questions cannot be changed. Add your own version instead.",
                        code="default_question")
    return question


def list_questions(db: Session, owner: User, category: str | None, limit: int,
                   cursor: str | None) -> tuple[list[Question], str | None]:
    stmt = select(Question).where(_visible(owner))
    if category:
        stmt = stmt.where(Question.category == category)
    return paginate(db, stmt, [Order(Question.position), Order(Question.id)], limit, cursor)


def bank(db: Session, owner: User) -> dict[str, list[Question]]:
    """Every question the student can use, by category: the handout's first, then their own."""
    grouped: dict[str, list[Question]] = {category: [] for category in CATEGORIES}
    for question in db.scalars(select(Question).where(_visible(owner))
                               .order_by(Question.position, Question.id)):
        grouped.setdefault(question.category, []).append(question)
    return grouped


def create_question(db: Session, owner: User, data: QuestionIn) -> Question:
    question = Question(owner_id=owner.id, text=data.text, category=data.category)
    db.add(question)
    db.flush()
    return question


def update_question(db: Session, question: Question, changes: QuestionPatch) -> Question:
    for field, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(question, field, value)
    db.flush()
    return question


def delete_question(db: Session, question: Question) -> None:
    db.delete(question)
    db.flush()
