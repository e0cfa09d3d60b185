"""Player tokens for the simulator, obtained as a real client obtains them: the API's login.

With `dev-login` (the default) each simulated player logs in once through POST /v1/dev/login
(the local stack and kind turn it on) and sends its token on /v1; the token is renewed a
minute before it expires. An API without a dev login answers 404: the run then goes on
without credentials (an API that wants them refuses with 401, and the ground truth shows
every refusal). `none` never asks. The legacy routes carry no token, as old clients do.
"""

import sys
import time

import httpx

LOGIN_PATH = "/v1/dev/login"
MODES = ("dev-login", "none")
_RENEW_BEFORE = 60.0


class Credentials:
    def __init__(self, mode: str):
        self.mode = mode
        self.available = mode != "none"
        self._tokens: dict[str, tuple[str, float]] = {}

    async def headers(self, client: httpx.AsyncClient, player_id: str, host: str | None = None) -> dict[str, str]:
        """The Authorization header for `player_id`, or none when no token can be had now. `host`:
        the Host header the player's requests carry, so the login takes the same ingress route."""
        if not self.available:
            return {}
        token, renew_at = self._tokens.get(player_id, (None, 0.0))
        if token is None or time.monotonic() >= renew_at:
            token = await self._login(client, player_id, host)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def forget(self, player_id: str) -> None:
        """Drop a token the API refused (401): the next request logs in again."""
        self._tokens.pop(player_id, None)

    async def _login(self, client: httpx.AsyncClient, player_id: str, host: str | None) -> str | None:
        try:
            response = await client.post(
                LOGIN_PATH, json={"player_id": player_id}, headers={"Host": host} if host else None
            )
        except httpx.TransportError:
            return None  # the request that follows meets the same fault and is retried
        if response.status_code == 404:
            self.available = False
            print(
                f"[loadgen] {response.request.url} answered 404: no dev login there, so /v1 requests go "
                "without credentials (an API that wants them refuses them; the ground truth counts it)",
                file=sys.stderr,
                flush=True,
            )
            return None
        if response.status_code != 200:
            return None
        answer = response.json()
        renew_at = time.monotonic() + max(float(answer["expires_in"]) - _RENEW_BEFORE, 1.0)
        self._tokens[player_id] = (answer["access_token"], renew_at)
        return answer["access_token"]
