"""Fixtures of the administration tests: an administrator, a staff member and a student, each
signed in, in a browser of their own."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.models import Role
from tests.admin.helpers import Person, account


@pytest.fixture
def admin(app: FastAPI, make_client: Callable[[], TestClient]) -> Person:
    return account(app, make_client(), "ada@uni.edu", "Ada Admin", Role.admin)


@pytest.fixture
def staff(app: FastAPI, make_client: Callable[[], TestClient]) -> Person:
    return account(app, make_client(), "sam@uni.edu", "Sam Staff", Role.staff)


@pytest.fixture
def student(app: FastAPI, make_client: Callable[[], TestClient]) -> Person:
    return account(app, make_client(), "maya@uni.edu", "Maya Okafor")
