"""Django's model backend, loading the signed-in user with their organisation.

Every page reads `request.user.organization` (its time zone, in the middleware, and the
tenant in every query): one statement instead of two on each request.
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend

from hiretext.accounts.models import User


class OrganizationBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("organization").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
