"""Who is asking and what they may do: sign-in through the company's OpenID provider, roles,
sessions, personal access tokens, and the actor every event records (docs/architecture.md, Web)."""
