"""Who a reference names in the sandbox's world (sandbox/world.py)."""

from __future__ import annotations

import pytest

from sandbox.world import (
    BRAND_X_HANDLE,
    FacebookPersona,
    UnknownPersona,
    XUser,
    seeded_world,
)


def test_an_x_user_is_found_by_key_id_or_handle_in_any_case() -> None:
    world = seeded_world(0.0)
    pat = world.x_users["pat"]

    for reference in ("pat", "PAT", pat.id, "pat_example", "@Pat_Example"):
        assert world.x_user(reference) is pat
    assert world.x_user(BRAND_X_HANDLE) is world.brand
    with pytest.raises(UnknownPersona):
        world.x_user("nobody")


def test_a_facebook_persona_is_found_by_key_ids_or_name() -> None:
    world = seeded_world(0.0)
    jane = world.facebook_personas["jane"]

    for reference in ("jane", jane.psid, jane.asid, "Jane Doe"):
        assert world.facebook_persona(reference) is jane
    with pytest.raises(UnknownPersona):
        world.facebook_persona("JANE")  # exact, as Facebook's ids are


def test_consumers_added_after_a_lookup_are_found() -> None:
    world = seeded_world(0.0)
    world.x_user("pat")
    world.facebook_persona("jane")

    world.x_users["sam"] = XUser("sam", "1205290247124218000", "Sam New", "sam_new")
    world.facebook_personas["ola"] = FacebookPersona("ola", "Ola Nowak", "771", "654")

    assert world.x_user("@sam_new").key == "sam"
    assert world.facebook_persona("654").key == "ola"


def test_a_reference_two_consumers_share_names_the_first_added() -> None:
    world = seeded_world(0.0)
    world.x_users["copy"] = XUser("copy", "1205290247124218001", "Copy", "pat")  # pat's key

    assert world.x_user("pat").key == "pat"
    assert world.x_user("1205290247124218001").key == "copy"


def test_many_consumers_are_found_as_fast_as_few() -> None:
    # The benchmark adds thousands of consumers to one world; each platform call looks one up.
    world = seeded_world(0.0)
    for number in range(5000):
        key = f"bench{number}"
        world.x_users[key] = XUser(key, str(10**18 + number), key, key)
    world.x_user("bench0")
    built = world._x_index._by_reference

    assert world.x_user("bench4999").id == str(10**18 + 4999)
    assert world.x_user("@BENCH2500").key == "bench2500"
    assert world._x_index._by_reference is built  # answered from the index, not rebuilt
