#!/bin/sh
# azd postdeploy hook: subscribe the deployed functions to the ACS Event Grid system topic.
# Event Grid validates an Azure Function endpoint when the subscription is made, so this runs after deploy,
# not in Bicep. Safe to re-run: `event-subscription create` is a create-or-update.
set -eu

for tool in az azd; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: '$tool' is not installed; see docs/deploy.md (prerequisites)" >&2
    exit 1
  fi
done

# Import only the azd outputs this hook needs (azd prints KEY="value" lines).
env_file=$(mktemp)
trap 'rm -f "$env_file"' EXIT
azd env get-values > "$env_file"
while IFS='=' read -r key value; do
  value=${value#\"}
  value=${value%\"}
  case "$key" in
    AZURE_RESOURCE_GROUP | AZURE_FUNCTION_APP_NAME | EVENT_GRID_SYSTEM_TOPIC_NAME | CALLBACK_BASE_URL)
      export "$key=$value" ;;
  esac
done < "$env_file"

: "${AZURE_RESOURCE_GROUP:?is not set; run azd provision first}"
: "${AZURE_FUNCTION_APP_NAME:?is not set; run azd provision first}"
: "${EVENT_GRID_SYSTEM_TOPIC_NAME:?is not set; run azd provision first}"

# Seconds to wait for the host to index freshly deployed functions.
wait_seconds=${POSTDEPLOY_WAIT_SECONDS:-180}

function_id() {
  az functionapp function show \
    --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --function-name "$1" --query id --output tsv 2>/dev/null || true
}

wait_for_function() {
  waited=0
  while :; do
    id=$(function_id "$1")
    if [ -n "$id" ]; then
      echo "$id"
      return 0
    fi
    if [ "$waited" -ge "$wait_seconds" ]; then
      return 1
    fi
    sleep 10
    waited=$((waited + 10))
  done
}

# subscribe NAME FUNCTION_ID EVENT_TYPE MAX_DELIVERY_ATTEMPTS EVENT_TTL_MINUTES
subscribe() {
  if az eventgrid system-topic event-subscription show \
    --resource-group "$AZURE_RESOURCE_GROUP" --system-topic-name "$EVENT_GRID_SYSTEM_TOPIC_NAME" \
    --name "$1" --output none 2>/dev/null; then
    echo "Updating Event Grid subscription '$1' ($3)"
  else
    echo "Creating Event Grid subscription '$1' ($3)"
  fi
  az eventgrid system-topic event-subscription create \
    --resource-group "$AZURE_RESOURCE_GROUP" --system-topic-name "$EVENT_GRID_SYSTEM_TOPIC_NAME" \
    --name "$1" \
    --endpoint-type azurefunction --endpoint "$2" \
    --included-event-types "$3" \
    --event-delivery-schema eventgridschema \
    --max-delivery-attempts "$4" --event-ttl "$5" \
    --output none
}

echo "Waiting for function 'incoming_call' on $AZURE_FUNCTION_APP_NAME..."
if ! incoming_call_id=$(wait_for_function incoming_call); then
  echo "error: function 'incoming_call' not found on $AZURE_FUNCTION_APP_NAME after ${wait_seconds}s;" \
    "check the deployment logs, then run: azd hooks run postdeploy" >&2
  exit 1
fi
# A caller hangs up long before Event Grid's default 24-hour retry window ends, and answering a stale
# IncomingCall fails anyway: ACS recommends at most 2 delivery attempts and a 1-minute time-to-live.
subscribe incoming-call "$incoming_call_id" Microsoft.Communication.IncomingCall 2 1

# Optional: only when the app has a recording_file_status function. Default retry policy: the recording
# stays downloadable for 48 hours, so late delivery is still useful.
recording_id=$(function_id recording_file_status)
if [ -n "$recording_id" ]; then
  subscribe recording-file-status "$recording_id" Microsoft.Communication.RecordingFileStatusUpdated 30 1440
else
  echo "Skipping 'recording-file-status': the app has no recording_file_status function."
fi

# CALLBACK_BASE_URL is derived from the app name in Bicep; warn if the platform gave the app another host name.
host=$(az functionapp show --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
  --query defaultHostName --output tsv 2>/dev/null || true)
if [ -n "$host" ] && [ "https://$host" != "${CALLBACK_BASE_URL:-}" ]; then
  echo "warning: the app's host name is $host but CALLBACK_BASE_URL is ${CALLBACK_BASE_URL:-unset};" \
    "ACS callbacks will not arrive. Set CALLBACK_BASE_URL in infra/app/function.bicep and re-provision." >&2
fi

echo "Event Grid subscriptions are in place. Incoming calls to your ACS numbers now reach '$AZURE_FUNCTION_APP_NAME'."
