// Every role assignment of the deployment. Names are guid(scope, principal, role) so re-provisioning is idempotent.

@description('Storage account of the host, the app tables and the recordings.')
param storageAccountName string

@description('Blob container ACS writes recordings to.')
param recordingsContainerName string

@description('Application Insights resource name.')
param appInsightsName string

@description('Communication Services resource name.')
param communicationServiceName string

@description('Azure AI services account name.')
param aiServicesName string

@description('Principal id of the function app identity (user-assigned).')
param apiPrincipalId string

@description('Principal id of the ACS system-assigned identity.')
param acsPrincipalId string

@description('Principal id of the developer or CI identity running azd; empty to skip.')
param userPrincipalId string = ''

@description('User or ServicePrincipal.')
param userPrincipalType string = 'User'

@description('Host blob access (leases, deployment package).')
param enableBlob bool = true

@description('Host queue access.')
param enableQueue bool = true

@description('Table access (call state, routing rules, orders).')
param enableTable bool = true

@description('Grant the developer identity data access for seeding and troubleshooting.')
param allowUserIdentityPrincipal bool = false

@description('The transcript receiver is deployed: grant its identity table access and image pulls.')
param enableReceiver bool = false

@description('Container registry the receiver image is pulled from (used only when enableReceiver is true).')
param containerRegistryName string = ''

@description('Principal id of the receiver identity (user-assigned); empty when the receiver is not deployed.')
param receiverPrincipalId string = ''

var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner: the Functions host manages blob leases and containers
var storageBlobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher: Entra-authenticated telemetry
var cognitiveServicesUserRoleId = 'a97b65f3-24c7-4388-baec-2e87135dc908' // Cognitive Services User: ACS calls TTS and speech recognition
var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull: Container Apps pulls the receiver image with the receiver identity
// Communication and Email Service Owner: the narrowest built-in role that authorizes Call Automation with
// Entra ID (ACS checks Microsoft.Communication/CommunicationServices/* actions; no data-plane role exists).
// It is scoped to the one ACS resource; Contributor would also work but grants far more.
var communicationServiceOwnerRoleId = '09976791-48a7-449e-bb21-39d1a415f350'

var userEnabled = allowUserIdentityPrincipal && !empty(userPrincipalId)
var receiverEnabled = enableReceiver && !empty(receiverPrincipalId)

resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' existing = {
  parent: storageAccount
  name: 'default'
}

resource recordingsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = {
  parent: blobService
  name: recordingsContainerName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-09-01' existing = {
  name: communicationServiceName
}

resource aiServices 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: aiServicesName
}

// Only referenced by assignments that exist when the receiver is deployed (an existing reference is never read).
resource containerRegistry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: containerRegistryName
}

// ---- Function app identity ----

resource apiBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableBlob) {
  name: guid(storageAccount.id, apiPrincipalId, storageBlobDataOwnerRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableQueue) {
  name: guid(storageAccount.id, apiPrincipalId, storageQueueDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableTable) {
  name: guid(storageAccount.id, apiPrincipalId, storageTableDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiMonitoring 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, apiPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiCallAutomation 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, apiPrincipalId, communicationServiceOwnerRoleId)
  scope: communicationService
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', communicationServiceOwnerRoleId)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- ACS system-assigned identity ----

// Bring-your-own-storage recording: ACS writes the recording files into this one container only.
resource acsRecordings 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(recordingsContainer.id, acsPrincipalId, storageBlobDataContributorRoleId)
  scope: recordingsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
    principalId: acsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// "Connect ACS to Azure AI services": play (TTS) and recognize (speech) run with ACS's identity.
resource acsAiServices 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(aiServices.id, acsPrincipalId, cognitiveServicesUserRoleId)
  scope: aiServices
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesUserRoleId)
    principalId: acsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Transcript receiver identity (user-assigned, when the receiver is deployed) ----

// Pull the receiver image: the registry has no admin user, Container Apps authenticates with this identity.
resource receiverAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (receiverEnabled) {
  name: guid(containerRegistry.id, receiverPrincipalId, acrPullRoleId)
  scope: containerRegistry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: receiverPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Write transcript lines. Account scope, not the transcripts table alone: the receiver creates its table at
// startup when missing (receiver/app.py create_app), a request a table-scoped assignment may not authorize.
resource receiverTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (receiverEnabled) {
  name: guid(storageAccount.id, receiverPrincipalId, storageTableDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: receiverPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Developer identity (optional): seed routing rules, read state and recordings ----

resource userTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (userEnabled) {
  name: guid(storageAccount.id, userPrincipalId, storageTableDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource userRecordings 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (userEnabled) {
  name: guid(recordingsContainer.id, userPrincipalId, storageBlobDataContributorRoleId)
  scope: recordingsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}
