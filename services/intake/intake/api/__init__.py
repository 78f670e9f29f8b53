"""The requests API (`/api/v1/requests`): staff record and find requests, the council reads them."""
