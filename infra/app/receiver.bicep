// WebSocket transcript receiver on Container Apps: ACS streams real-time transcription (and media) over a
// WebSocket to this service. Deployed only with deployTranscriptReceiver=true and an image you built from
// receiver/ (the repository has no Dockerfile or azd service for it yet), so a default azd up stays image-free.

@description('Container Apps environment name.')
param environmentName string

@description('Container app name.')
param name string

@description('Location of both resources.')
param location string = resourceGroup().location

@description('Tags.')
param tags object = {}

@description('Container image of the receiver, e.g. <registry>.azurecr.io/receiver:<tag>.')
@minLength(1)
param image string

@description('Port the receiver listens on inside the container.')
param targetPort int = 8080

@description('Log Analytics workspace for the environment logs.')
param logAnalyticsWorkspaceResourceId string

@description('User-assigned identity the receiver runs as (same identity as the function app: table access).')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Shared token ACS presents on the WebSocket (the app adds it to the transport URL).')
@secure()
param token string

@description('Table endpoint where the receiver stores transcripts.')
param storageTableEndpoint string

@description('Transcripts table name.')
param transcriptsTableName string

module environment 'br/public:avm/res/app/managed-environment:0.15.0' = {
  name: 'receiverEnvironment'
  params: {
    name: environmentName
    location: location
    tags: tags
    publicNetworkAccess: 'Enabled' // ACS connects from the internet; there is no VNet in this template
    zoneRedundant: false // zone redundancy needs a VNet-injected environment
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsWorkspaceResourceId: logAnalyticsWorkspaceResourceId
    }
  }
}

module receiver 'br/public:avm/res/app/container-app:0.23.0' = {
  name: 'receiverApp'
  params: {
    name: name
    location: location
    tags: union(tags, { 'azd-service-name': 'receiver' })
    environmentResourceId: environment.outputs.resourceId
    managedIdentities: {
      userAssignedResourceIds: [
        identityId
      ]
    }
    ingressExternal: true
    ingressTransport: 'http' // WebSocket upgrades ride on HTTP/1.1
    ingressTargetPort: targetPort
    ingressAllowInsecure: false
    secrets: [
      {
        name: 'receiver-token'
        value: token
      }
    ]
    scaleSettings: {
      minReplicas: 0 // idle between calls
      maxReplicas: 10
    }
    containers: [
      {
        name: 'receiver'
        image: image
        resources: {
          cpu: json('0.5')
          memory: '1Gi'
        }
        env: [
          {
            name: 'PORT'
            value: string(targetPort)
          }
          {
            name: 'RECEIVER_TOKEN'
            secretRef: 'receiver-token'
          }
          {
            name: 'AZURE_CLIENT_ID'
            value: identityClientId
          }
          {
            name: 'STORAGE_TABLE_ENDPOINT'
            value: storageTableEndpoint
          }
          {
            name: 'TRANSCRIPTS_TABLE_NAME'
            value: transcriptsTableName
          }
        ]
      }
    ]
  }
}

@description('WebSocket URL to give ACS as the transport URL.')
output websocketUrl string = 'wss://${receiver.outputs.fqdn}'
