// The function app (Flex Consumption, Python) and every app setting the code reads. Settings are listed
// here, not in main.bicep, so tests/infra/test_settings_parity.py can compare them with shared/settings.py.

@description('Function app name; also the host name of the callback URL.')
param name string

@description('Location of the app.')
param location string = resourceGroup().location

@description('Tags; the azd-service-name tag is added so `azd deploy` finds the app.')
param tags object = {}

@description('azd service name in azure.yaml.')
param serviceName string = 'api'

@description('Resource id of the Flex Consumption plan.')
param appServicePlanId string

@description('Storage account of the host (AzureWebJobsStorage), the deployment package and the app tables.')
param storageAccountName string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights resource name.')
param applicationInsightsName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID and the identity-based connections).')
param identityClientId string

@description('Python version of the Flex Consumption runtime.')
param pythonVersion string = '3.11'

@description('Memory per instance, in MB.')
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to.')
param maximumInstanceCount int = 100

@description('Give the host a blob service URI (required: host leases and the deployment package).')
param enableBlob bool = true

@description('Give the host a queue service URI.')
param enableQueue bool = true

@description('Give the host a table service URI.')
param enableTable bool = true

@description('ACS endpoint, https://<name>.<geo>.communication.azure.com.')
param acsEndpoint string

@description('Immutable resource id of the ACS resource: the audience of callback JWTs.')
param acsImmutableResourceId string

@description('Azure AI services endpoint that ACS uses for TTS and speech recognition.')
param cognitiveServicesEndpoint string

@description('Table of per-call state.')
param stateTableName string

@description('Table of routing rules (one row per called number).')
param routingTableName string

@description('Table of orders (IVR order-status lookup).')
param ordersTableName string

@description('Table of appointment reminders (outbound reminder flow).')
param remindersTableName string

@description('Table of number-masking pairings (proxy number to parties).')
param pairingsTableName string

@description('Table of recording metadata (RecordingFileStatusUpdated).')
param recordingsTableName string

@description('Table of call transcripts written by the transcript receiver.')
param transcriptsTableName string

@description('Blob container URL ACS records into (bring-your-own-storage).')
param recordingContainerUrl string

@description('WebSocket URL of the transcript receiver (wss://...); empty when it is not deployed.')
param receiverWebsocketUrl string = ''

@description('Shared token the app gives ACS for the receiver WebSocket; empty when the receiver is not deployed.')
@secure()
param receiverToken string = ''

@description('Flow settings: prompts, menus, numbers, timeouts (app/flow-settings.json merged with overrides by main.bicep).')
param flowSettings object

// Defaults of shared/settings.py, spelled out so the deployed configuration is explicit.
var acsJwtIssuer = 'https://acscallautomation.communication.azure.com'
var acsOpenIdConfigUrl = 'https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration'

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The Functions host reaches storage with the identity: no AzureWebJobsStorage connection string exists.
var hostStorageSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
}
var blobSettings = enableBlob ? { AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob } : {}
var queueSettings = enableQueue ? { AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue } : {}
var tableSettings = enableTable ? { AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table } : {}

// App Insights has local auth disabled, so telemetry is sent with the identity's Entra token.
var monitoringSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// Every setting shared/settings.py reads, except the local-only ones (ACS_ACCESS_KEY, ACS_CONNECTION_STRING,
// ACS_TLS_CA_BUNDLE, STORAGE_CONNECTION_STRING, MEDIA_URL_ALLOW_LOCAL): in Azure the app authenticates with its
// identity only, and ACS never fetches audio from loopback or private addresses.
var appSettings = {
  ACS_ENDPOINT: acsEndpoint
  AZURE_CLIENT_ID: identityClientId
  // Functions sets no proxy variables (HTTP(S)_PROXY are read once at start-up when this is true).
  HTTP_USE_ENV_SETTINGS: 'false'
  // One trace per invocation, with the SDKs' Table and ACS spans under it, to Application Insights (shared/tracing.py).
  TRACES_EXPORTER: 'azure-monitor'
  CALLBACK_BASE_URL: 'https://${name}.azurewebsites.net'
  CALLBACK_AUTH_ENABLED: 'true'
  CALLBACK_JWT_AUDIENCE: acsImmutableResourceId
  CALLBACK_JWT_ISSUER: acsJwtIssuer
  CALLBACK_OPENID_CONFIG_URL: acsOpenIdConfigUrl
  // ACS callback tokens live 5 minutes; a longer-lived token is refused (shared/auth.py).
  CALLBACK_JWT_MAX_LIFETIME_SECONDS: '600'
  COGNITIVE_SERVICES_ENDPOINT: cognitiveServicesEndpoint
  STORAGE_TABLE_ENDPOINT: storage.properties.primaryEndpoints.table
  STATE_TABLE_NAME: stateTableName
  ROUTING_TABLE_NAME: routingTableName
  ORDERS_TABLE_NAME: ordersTableName
  REMINDERS_TABLE_NAME: remindersTableName
  PAIRINGS_TABLE_NAME: pairingsTableName
  RECORDINGS_TABLE_NAME: recordingsTableName
  TRANSCRIPTS_TABLE_NAME: transcriptsTableName
  RECORDING_CONTAINER_URL: recordingContainerUrl
  RECEIVER_WEBSOCKET_URL: receiverWebsocketUrl
  // ACS cannot authenticate to a WebSocket with Entra ID, so the receiver checks this shared token instead.
  RECEIVER_TOKEN: receiverToken
}

module functionApp 'br/public:avm/res/web/site:0.24.0' = {
  name: '${serviceName}-flex-consumption'
  params: {
    kind: 'functionapp,linux'
    name: name
    location: location
    tags: union(tags, { 'azd-service-name': serviceName })
    serverFarmResourceId: appServicePlanId
    httpsOnly: true
    managedIdentities: {
      userAssignedResourceIds: [
        identityId
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
    siteConfig: {
      alwaysOn: false // not available on Flex Consumption; the platform scales from zero
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    configs: [
      {
        name: 'appsettings'
        // Bicep is the single source of truth: settings added by hand in the portal are removed on the next provision.
        retainCurrentAppSettings: false
        properties: union(flowSettings, hostStorageSettings, blobSettings, queueSettings, tableSettings, monitoringSettings, appSettings)
      }
    ]
  }
}

@description('Function app name.')
output name string = functionApp.outputs.name

@description('Function app resource id (parent of the Event Grid function endpoints).')
output resourceId string = functionApp.outputs.resourceId

@description('Base URL ACS posts callbacks to (CALLBACK_BASE_URL).')
output callbackBaseUrl string = 'https://${name}.azurewebsites.net'

@description('Default host name reported by the platform; the postdeploy hook checks it matches callbackBaseUrl.')
output defaultHostname string = functionApp.outputs.defaultHostname
