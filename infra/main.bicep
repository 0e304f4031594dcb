targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used for the resource group name and to derive a unique token for resource names.')
param environmentName string

@minLength(1)
@description('Primary location for all regional resources. Must offer Flex Consumption (see `az functionapp list-flexconsumption-locations`).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Where Azure Communication Services stores data at rest. Cannot be changed after the resource exists.')
@allowed([
  'Africa'
  'Asia Pacific'
  'Australia'
  'Brazil'
  'Canada'
  'Europe'
  'France'
  'Germany'
  'India'
  'Japan'
  'Korea'
  'Norway'
  'Switzerland'
  'UAE'
  'UK'
  'United States'
])
param acsDataLocation string = 'United States'

@description('Location of the Azure AI services account (TTS and speech recognition). Defaults to the primary location; pick a region with the neural voices you use.')
param aiServicesLocation string = location

@description('Object id of the developer running azd (set by azd). Gets table and blob access so you can seed routing rules and fetch recordings. Leave empty to skip.')
param principalId string = ''

@description('Type of principalId: User for a developer, ServicePrincipal for a CI identity.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Overrides of the flow settings (prompts, menus, numbers, timeouts); keys are app setting names. Defaults: app/flow-settings.json.')
param flowSettings object = {}

@description('Most instances the function app may scale out to. Each instance serves many concurrent calls (async handlers).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per function app instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Deploy the WebSocket transcript receiver on Container Apps. Off until the receiver service (receiver/) exists in this repository.')
param deployTranscriptReceiver bool = false

@description('Container image of the transcript receiver (used only when deployTranscriptReceiver is true).')
param transcriptReceiverImage string = ''

@description('Shared token between the app and the transcript receiver (ACS cannot use Entra ID on the WebSocket). Set with `azd env set RECEIVER_TOKEN <random>`.')
@secure()
param receiverToken string = ''

// Optional name overrides; empty means "derive from abbreviations.json and the resource token".
@description('Optional. Resource group name.')
param resourceGroupName string = ''
@description('Optional. Function app name (also the host name of the callback URL).')
param functionAppName string = ''
@description('Optional. User-assigned identity name.')
param apiUserAssignedIdentityName string = ''
@description('Optional. Flex Consumption plan name.')
param appServicePlanName string = ''
@description('Optional. Storage account name (3-24 lowercase letters and digits).')
param storageAccountName string = ''
@description('Optional. Log Analytics workspace name.')
param logAnalyticsName string = ''
@description('Optional. Application Insights name.')
param applicationInsightsName string = ''
@description('Optional. Communication Services resource name.')
param communicationServiceName string = ''
@description('Optional. Azure AI services account name (also its custom subdomain, so it must be globally unique).')
param aiServicesName string = ''
@description('Optional. Event Grid system topic name.')
param eventGridSystemTopicName string = ''
@description('Optional. Container Apps environment name (transcript receiver).')
param containerAppsEnvironmentName string = ''
@description('Optional. Transcript receiver container app name.')
param transcriptReceiverName string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

var names = {
  resourceGroup: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  functionApp: !empty(functionAppName) ? functionAppName : '${abbrs.webSitesFunctions}api-${resourceToken}'
  identity: !empty(apiUserAssignedIdentityName) ? apiUserAssignedIdentityName : '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
  plan: !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
  storage: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
  logAnalytics: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
  appInsights: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
  acs: !empty(communicationServiceName) ? communicationServiceName : '${abbrs.communicationCommunicationServices}${resourceToken}'
  aiServices: !empty(aiServicesName) ? aiServicesName : '${abbrs.cognitiveServicesAIServices}${resourceToken}'
  systemTopic: !empty(eventGridSystemTopicName) ? eventGridSystemTopicName : '${abbrs.eventGridSystemTopics}acs-${resourceToken}'
  containerAppsEnvironment: !empty(containerAppsEnvironmentName) ? containerAppsEnvironmentName : '${abbrs.appManagedEnvironments}${resourceToken}'
  transcriptReceiver: !empty(transcriptReceiverName) ? transcriptReceiverName : '${abbrs.appContainerApps}receiver-${resourceToken}'
}

// Flex Consumption deploys the app package from this container; the name is unique per app so two
// environments sharing a storage account never overwrite each other's package.
var deploymentContainerName = 'app-package-${take(names.functionApp, 32)}-${take(toLower(uniqueString(names.functionApp, resourceToken)), 7)}'

// ACS writes call recordings here (bring-your-own-storage), so recordings stay in the app's account.
var recordingsContainerName = 'recordings'

// Table names are app settings too (STATE_TABLE_NAME, ...); creating them here means the app never
// needs table-create rights at runtime and a typo fails the deployment, not the first call.
var tableNames = {
  state: 'callstate'
  routing: 'routingrules'
  orders: 'orders'
  reminders: 'reminders'
  pairings: 'proxypairings'
  recordings: 'recordings'
  transcripts: 'transcripts'
}

// Feature flags, grouped so a reader sees every switch in one place.
var features = {
  enableBlob: true // AzureWebJobsStorage (host leases), the Flex deployment package and ACS recordings
  enableQueue: true // AzureWebJobsStorage queues: the host uses them for retries and some extensions
  enableTable: true // call state, routing rules, orders, reminders, pairings, recordings, transcripts
  allowUserIdentityPrincipal: !empty(principalId) // the developer can seed routing rules and read recordings
  deployTranscriptReceiver: deployTranscriptReceiver // the receiver service is optional (media streaming)
}

// Flow defaults mirror shared/settings.py (tests/infra/test_settings_parity.py checks that); flowSettings,
// fed from azd environment variables by main.parameters.json, overrides them key by key.
var flowDefaults = loadJsonContent('./app/flow-settings.json')

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

// One user-assigned identity for the app: it exists before the app, so its roles are in place on first start.
module apiUserAssignedIdentity 'br/public:avm/res/managed-identity/user-assigned-identity:0.6.0' = {
  name: 'apiUserAssignedIdentity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.33.0' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: 'Standard_LRS'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // identities only: no account keys, no SAS
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled' // Flex app without VNet integration, and ACS writes recordings from outside
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      containers: [
        { name: deploymentContainerName }
        { name: recordingsContainerName }
      ]
    }
    tableServices: {
      tables: [
        { name: tableNames.state }
        { name: tableNames.routing }
        { name: tableNames.orders }
        { name: tableNames.reminders }
        { name: tableNames.pairings }
        { name: tableNames.recordings }
        { name: tableNames.transcripts }
      ]
    }
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.16.1' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: names.logAnalytics
    location: location
    tags: tags
    dataRetention: 30
  }
}

module appInsights 'br/public:avm/res/insights/component:0.8.0' = {
  name: 'appInsights'
  scope: rg
  params: {
    name: names.appInsights
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true // ingestion only with Entra ID (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)
  }
}

module appServicePlan 'br/public:avm/res/web/serverfarm:0.7.0' = {
  name: 'appServicePlan'
  scope: rg
  params: {
    name: names.plan
    location: location
    tags: tags
    kind: 'functionapp'
    skuName: 'FC1'
    reserved: true // Linux: Flex Consumption is Linux-only
    zoneRedundant: false
  }
}

module communication 'app/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    name: names.acs
    dataLocation: acsDataLocation
    tags: tags
    logAnalyticsWorkspaceResourceId: logAnalytics.outputs.resourceId
  }
}

module aiServices 'br/public:avm/res/cognitive-services/account:0.18.0' = {
  name: 'aiServices'
  scope: rg
  params: {
    name: names.aiServices
    location: aiServicesLocation
    tags: tags
    kind: 'AIServices'
    sku: 'S0'
    customSubDomainName: names.aiServices // ACS reaches AI services by its subdomain endpoint with Entra ID
    disableLocalAuth: true // no keys: ACS authenticates with its managed identity
    publicNetworkAccess: 'Enabled' // ACS calls it from the Microsoft backbone, not from a VNet
  }
}

module api 'app/function.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: names.functionApp
    location: location
    tags: tags
    appServicePlanId: appServicePlan.outputs.resourceId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: appInsights.outputs.name
    identityId: apiUserAssignedIdentity.outputs.resourceId
    identityClientId: apiUserAssignedIdentity.outputs.clientId
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    enableBlob: features.enableBlob
    enableQueue: features.enableQueue
    enableTable: features.enableTable
    acsEndpoint: communication.outputs.endpoint
    acsImmutableResourceId: communication.outputs.immutableResourceId
    cognitiveServicesEndpoint: aiServices.outputs.endpoint
    stateTableName: tableNames.state
    routingTableName: tableNames.routing
    ordersTableName: tableNames.orders
    remindersTableName: tableNames.reminders
    pairingsTableName: tableNames.pairings
    recordingsTableName: tableNames.recordings
    transcriptsTableName: tableNames.transcripts
    recordingContainerUrl: '${storage.outputs.primaryBlobEndpoint}${recordingsContainerName}'
    receiverWebsocketUrl: features.deployTranscriptReceiver ? transcriptReceiver.outputs.websocketUrl : ''
    receiverToken: features.deployTranscriptReceiver ? receiverToken : ''
    flowSettings: union(flowDefaults, flowSettings)
  }
}

// ACS publishes IncomingCall and RecordingFileStatusUpdated here. The subscriptions that deliver them to the
// functions are created by the postdeploy hook (scripts/postdeploy.*): Event Grid validates an Azure Function
// endpoint when the subscription is made, so the function must already be deployed.
module eventGridSystemTopic 'br/public:avm/res/event-grid/system-topic:0.7.0' = {
  name: 'eventGridSystemTopic'
  scope: rg
  params: {
    name: names.systemTopic
    location: 'global' // ACS is a global resource, so is its system topic
    tags: tags
    source: communication.outputs.resourceId
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    recordingsContainerName: recordingsContainerName
    appInsightsName: appInsights.outputs.name
    communicationServiceName: communication.outputs.name
    aiServicesName: aiServices.outputs.name
    apiPrincipalId: apiUserAssignedIdentity.outputs.principalId
    acsPrincipalId: communication.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    enableBlob: features.enableBlob
    enableQueue: features.enableQueue
    enableTable: features.enableTable
    allowUserIdentityPrincipal: features.allowUserIdentityPrincipal
  }
}

module transcriptReceiver 'app/receiver.bicep' = if (features.deployTranscriptReceiver) {
  name: 'transcriptReceiver'
  scope: rg
  params: {
    environmentName: names.containerAppsEnvironment
    name: names.transcriptReceiver
    location: location
    tags: tags
    image: transcriptReceiverImage
    logAnalyticsWorkspaceResourceId: logAnalytics.outputs.resourceId
    identityId: apiUserAssignedIdentity.outputs.resourceId
    identityClientId: apiUserAssignedIdentity.outputs.clientId
    token: receiverToken
    storageTableEndpoint: storage.outputs.serviceEndpoints.table
    transcriptsTableName: tableNames.transcripts
  }
}

// Outputs land in the azd environment (.azure/<env>/.env); the postdeploy hook and docs/deploy.md use them.
// Names that match app settings (ACS_ENDPOINT, CALLBACK_*, STORAGE_TABLE_ENDPOINT, *_TABLE_NAME) let a developer
// run tools such as `python -m shared.seed` against Azure with `azd env get-values`.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output CALLBACK_BASE_URL string = api.outputs.callbackBaseUrl
output CALLBACK_JWT_AUDIENCE string = communication.outputs.immutableResourceId
output ACS_ENDPOINT string = communication.outputs.endpoint
output ACS_RESOURCE_NAME string = communication.outputs.name
output ACS_IMMUTABLE_RESOURCE_ID string = communication.outputs.immutableResourceId
output EVENT_GRID_SYSTEM_TOPIC_NAME string = eventGridSystemTopic.outputs.name
output COGNITIVE_SERVICES_ENDPOINT string = aiServices.outputs.endpoint
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output STORAGE_TABLE_ENDPOINT string = storage.outputs.serviceEndpoints.table
output STATE_TABLE_NAME string = tableNames.state
output ROUTING_TABLE_NAME string = tableNames.routing
output ORDERS_TABLE_NAME string = tableNames.orders
output REMINDERS_TABLE_NAME string = tableNames.reminders
output PAIRINGS_TABLE_NAME string = tableNames.pairings
output RECORDINGS_TABLE_NAME string = tableNames.recordings
output TRANSCRIPTS_TABLE_NAME string = tableNames.transcripts
output RECORDING_CONTAINER_URL string = '${storage.outputs.primaryBlobEndpoint}${recordingsContainerName}'
output APPLICATIONINSIGHTS_NAME string = appInsights.outputs.name
output TRANSCRIPT_RECEIVER_URL string = features.deployTranscriptReceiver ? transcriptReceiver.outputs.websocketUrl : ''
