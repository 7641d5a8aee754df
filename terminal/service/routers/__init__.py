"""One router per resource; routes are thin and delegate to the layers below."""
