# azd postdeploy hook: subscribe the deployed functions to the ACS Event Grid system topic.
# Event Grid validates an Azure Function endpoint when the subscription is made, so this runs after deploy,
# not in Bicep. Safe to re-run: `event-subscription create` is a create-or-update. Mirrors postdeploy.sh.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

foreach ($tool in @('az', 'azd')) {
    if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) {
        Write-Error "'$tool' is not installed; see docs/deploy.md (prerequisites)"
        exit 1
    }
}

# Import only the azd outputs this hook needs (azd prints KEY="value" lines).
$wanted = @('AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'EVENT_GRID_SYSTEM_TOPIC_NAME', 'CALLBACK_BASE_URL')
$values = @{}
foreach ($line in (azd env get-values)) {
    if ($line -match '^([^=]+)=(.*)$' -and $wanted -contains $Matches[1]) {
        $values[$Matches[1]] = $Matches[2] -replace '^"|"$', ''
    }
}
foreach ($key in $wanted[0..2]) {
    if (-not $values[$key]) {
        Write-Error "$key is not set; run azd provision first"
        exit 1
    }
}
$resourceGroup = $values['AZURE_RESOURCE_GROUP']
$appName = $values['AZURE_FUNCTION_APP_NAME']
$topicName = $values['EVENT_GRID_SYSTEM_TOPIC_NAME']

# Seconds to wait for the host to index freshly deployed functions.
$waitSeconds = if ($env:POSTDEPLOY_WAIT_SECONDS) { [int]$env:POSTDEPLOY_WAIT_SECONDS } else { 180 }

function Get-FunctionId([string]$functionName) {
    $id = az functionapp function show --resource-group $resourceGroup --name $appName `
        --function-name $functionName --query id --output tsv 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return "$id".Trim()
}

function Wait-Function([string]$functionName) {
    $waited = 0
    while ($true) {
        $id = Get-FunctionId $functionName
        if ($id) { return $id }
        if ($waited -ge $waitSeconds) { return '' }
        Start-Sleep -Seconds 10
        $waited += 10
    }
}

function Set-Subscription([string]$name, [string]$endpoint, [string]$eventType, [int]$maxDeliveryAttempts, [int]$eventTtlMinutes) {
    az eventgrid system-topic event-subscription show --resource-group $resourceGroup `
        --system-topic-name $topicName --name $name --output none 2>$null
    if ($LASTEXITCODE -eq 0) { Write-Host "Updating Event Grid subscription '$name' ($eventType)" }
    else { Write-Host "Creating Event Grid subscription '$name' ($eventType)" }
    az eventgrid system-topic event-subscription create `
        --resource-group $resourceGroup --system-topic-name $topicName `
        --name $name `
        --endpoint-type azurefunction --endpoint $endpoint `
        --included-event-types $eventType `
        --event-delivery-schema eventgridschema `
        --max-delivery-attempts $maxDeliveryAttempts --event-ttl $eventTtlMinutes `
        --output none
    if ($LASTEXITCODE -ne 0) { throw "Creating Event Grid subscription '$name' failed" }
}

Write-Host "Waiting for function 'incoming_call' on $appName..."
$incomingCallId = Wait-Function 'incoming_call'
if (-not $incomingCallId) {
    Write-Error ("function 'incoming_call' not found on $appName after ${waitSeconds}s; " +
        'check the deployment logs, then run: azd hooks run postdeploy')
    exit 1
}
# A caller hangs up long before Event Grid's default 24-hour retry window ends, and answering a stale
# IncomingCall fails anyway: ACS recommends at most 2 delivery attempts and a 1-minute time-to-live.
Set-Subscription 'incoming-call' $incomingCallId 'Microsoft.Communication.IncomingCall' 2 1

# Optional: only when the app has a recording_file_status function. Default retry policy: the recording
# stays downloadable for 48 hours, so late delivery is still useful.
$recordingId = Get-FunctionId 'recording_file_status'
if ($recordingId) {
    Set-Subscription 'recording-file-status' $recordingId 'Microsoft.Communication.RecordingFileStatusUpdated' 30 1440
}
else {
    Write-Host "Skipping 'recording-file-status': the app has no recording_file_status function."
}

# CALLBACK_BASE_URL is derived from the app name in Bicep; warn if the platform gave the app another host name.
$hostName = az functionapp show --resource-group $resourceGroup --name $appName --query defaultHostName --output tsv 2>$null
if ($LASTEXITCODE -eq 0 -and $hostName -and "https://$hostName" -ne $values['CALLBACK_BASE_URL']) {
    Write-Warning ("the app's host name is $hostName but CALLBACK_BASE_URL is $($values['CALLBACK_BASE_URL']); " +
        'ACS callbacks will not arrive. Set CALLBACK_BASE_URL in infra/app/function.bicep and re-provision.')
}

Write-Host "Event Grid subscriptions are in place. Incoming calls to your ACS numbers now reach '$appName'."
