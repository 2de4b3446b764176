"""The sandbox's identity service: sign-in and consent, tokens, revocation, connections."""
