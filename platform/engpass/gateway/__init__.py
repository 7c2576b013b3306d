"""The one way into an organization: whatever found the user's seat there — the web's slug and session
(``web.py``), the API's token, a later single sign-on — ``seat.enter`` sets up the request from it."""
