"""Word-choice checks: vague amounts, hedging, hyperbole, chat punctuation, agentless passives."""

from __future__ import annotations

from tests.builders import document, run_check


def quotes(check: str, *texts: str, **params) -> list[str]:
    doc = document(("Investigation", "investigation", list(texts)))
    return [f.span.quote for f in run_check(doc, check, **params)]


def test_vague_quantifier_is_flagged():
    text = "Several customers complained and a number of refunds were delayed for many days."
    assert quotes("vague_quantifier", text) == ["Several", "a number of", "many"]


def test_precise_numbers_are_not_flagged_as_vague():
    text = "Some 40 accounts were affected; 12 customers complained; several (7) refunds failed."
    assert quotes("vague_quantifier", text) == []


def test_superlative_most_is_not_a_vague_amount():
    assert quotes("vague_quantifier", "The most severe case cost at most 300 dollars.") == []
    assert quotes("vague_quantifier", "Most sellers were notified.") == ["Most"]


def test_vague_terms_match_whole_words_only():
    assert quotes("vague_quantifier", "Sometimes the handsome manyfold fix worked.") == []


def test_hedging_is_flagged():
    text = "The seller probably reused the card, and it appears the limit may have been raised."
    assert quotes("hedging", text) == ["probably", "it appears", "may have"]


def test_verified_statements_are_not_hedging():
    text = "The seller reused the card on 3 May; the audit log shows the limit was raised."
    assert quotes("hedging", text) == []


def test_hyperbole_is_flagged():
    text = "It was a total disaster with a massive backlog."
    assert quotes("hyperbole", text) == ["disaster", "massive"]


def test_measured_impact_is_not_hyperbole():
    assert quotes("hyperbole", "The backlog grew from 120 to 480 cases in two days.") == []


def test_informal_punctuation_is_flagged():
    text = "The queue doubled!! Nobody noticed?! lol :) Then 🙂 waited.... Done!"
    assert quotes("informal_punctuation", text) == ["!!", "?!", "lol", ":)", "🙂", "....", "!"]


def test_single_exclamation_can_be_allowed():
    assert quotes("informal_punctuation", "Done!", allow_single_exclamation=True) == []


def test_business_punctuation_is_not_informal():
    text = "Refunds (12) were issued: see the table... Status ✅. Contents.......... 4"
    assert quotes("informal_punctuation", text) == []


def test_passive_without_agent_is_flagged():
    text = "The account was deleted on Monday and the seller's listings were not reviewed."
    assert quotes("passive_voice", text) == ["was deleted", "were not reviewed"]


def test_passive_with_agent_or_active_voice_is_not_flagged():
    text = "The account was deleted by the cleanup job. The fraud team reviewed the listings."
    assert quotes("passive_voice", text) == []


def test_irregular_participles_count_as_passive():
    assert quotes("passive_voice", "The keys were stolen and the door was left open.") == [
        "were stolen",
        "was left",
    ]


def test_words_ending_in_ed_that_are_not_participles_are_not_passive():
    assert quotes("passive_voice", "The gain is indeed real and the alert is red.") == []


def test_passive_voice_hits_are_capped_per_section():
    text = "It was opened. It was closed. It was reopened. It was merged. It was filed."
    assert len(quotes("passive_voice", text, max_per_section=2)) == 2
