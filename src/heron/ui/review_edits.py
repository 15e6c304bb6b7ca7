"""The forms that change human review after it is set up: a label schema edited or deleted
on the Review tab, a review queue renamed, given other reviewers or deleted on its page, and
the traces ticked in an experiment's traces list added to one of its queues. Each is guarded
by the permission of its API route (update on the experiment)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui.rendering import Form, Renderer, field
from heron.ui.review_forms import label_input, listed, queue_href, review_tab_href

MAX_SELECTED = 1000  # traces ticked in one post (a page of the list holds 50)


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    schemas = services.label_schemas
    queues = services.review_queues

    def edit_schema(request: Request, form: Form) -> str:
        """The schema's name, instruction, comment box and answer options. Its kind of answer
        (and whether a categorical takes several) stays: the service refuses a change."""
        schema = schemas.update_schema(
            request.path_params["schema_id"],
            name=field(form, "name").strip(),
            instruction=field(form, "instruction").strip(),
            enable_comment=field(form, "enable_comment") == "on",
            input_=label_input(form),
        )
        return review_tab_href(schema.experiment_id)

    def delete_schema(request: Request, form: Form) -> str:
        schema = schemas.get_schema(request.path_params["schema_id"])
        schemas.delete_schema(schema.schema_id)
        return review_tab_href(schema.experiment_id)

    def edit_queue(request: Request, form: Form) -> str:
        queue = queues.update_queue(
            request.path_params["queue_id"],
            name=field(form, "name").strip(),
            users=listed(field(form, "users")),
        )
        return queue_href(queue.queue_id)

    def delete_queue(request: Request, form: Form) -> str:
        queue = queues.get_queue(request.path_params["queue_id"])
        queues.delete_queue(queue.queue_id)
        return review_tab_href(queue.experiment_id)

    def queue_selected(request: Request, form: Form) -> str:
        """The traces ticked in the experiment's traces list, added to the queue chosen."""
        experiment_id = request.path_params["experiment_id"]
        wanted = list(dict.fromkeys(i.strip() for i in form.get("ids", []) if i.strip()))
        if not wanted:
            raise InvalidParameter("Tick the traces to add to a review queue first")
        if len(wanted) > MAX_SELECTED:
            raise InvalidParameter(f"Add at most {MAX_SELECTED} traces at a time")
        queue_id = field(form, "queue_id")
        if not queue_id:
            raise InvalidParameter("Choose the review queue to add the traces to")
        queue = queues.get_queue(queue_id)
        if queue.experiment_id != experiment_id:
            raise InvalidParameter(
                f"Review queue {queue.name!r} belongs to another experiment: choose one of "
                "this experiment's queues"
            )
        queues.add_items(queue.queue_id, wanted)
        return queue_href(queue.queue_id)

    on_experiment = requires("update", "experiment")  # the service checks the object's own
    return [
        renderer.post("/ui/label-schemas/{schema_id}/edit", edit_schema, on_experiment),
        renderer.post("/ui/label-schemas/{schema_id}/delete", delete_schema, on_experiment),
        renderer.post("/ui/review-queues/{queue_id}/edit", edit_queue, on_experiment),
        renderer.post("/ui/review-queues/{queue_id}/delete", delete_queue, on_experiment),
        renderer.post(
            "/ui/experiments/{experiment_id}/traces/review-queue",
            queue_selected,
            requires("update", "experiment", "experiment_id"),
        ),
    ]
