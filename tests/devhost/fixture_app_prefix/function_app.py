"""Second fixture app: same module and function names as fixture_app, a custom route prefix, a timer trigger."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello/{name}")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"prefixed hello {req.route_params['name']}")


@app.route(route="hello/world")
def hello_world(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("the literal route wins")


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    raise AssertionError("devhost never runs timer triggers")
