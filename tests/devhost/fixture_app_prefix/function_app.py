"""Second fixture app: same module and function names as fixture_app, a custom route prefix, a timer trigger whose
schedule is an app setting, and a route that tells how often the timer ran."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
runs: list[bool] = []  # past_due of each run of tick


@app.route(route="hello/{name}")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"prefixed hello {req.route_params['name']}")


@app.route(route="hello/world")
def hello_world(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("the literal route wins")


@app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="timer")
async def tick(timer: func.TimerRequest) -> None:
    runs.append(timer.past_due)


@app.route(route="ticks")
def ticks(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(str(len(runs)))
