// Azure Communication Services: the phone line. Wraps the AVM module and adds the outputs the app needs
// that the module does not expose (the immutable resource id is the audience of ACS callback JWTs).

@description('Communication Services resource name.')
param name string

@description('Where ACS stores data at rest (e.g. "United States", "Europe").')
param dataLocation string

@description('Tags for the resource.')
param tags object = {}

@description('Log Analytics workspace for ACS logs (Call Automation operations, recording and media summaries).')
param logAnalyticsWorkspaceResourceId string

// The system-assigned identity is the one ACS uses to reach Azure AI services (TTS, speech recognition)
// and to write recordings to our storage (bring-your-own-storage); both features require it.
module communicationService 'br/public:avm/res/communication/communication-service:0.5.0' = {
  name: 'communicationService'
  params: {
    name: name
    location: 'global'
    dataLocation: dataLocation
    tags: tags
    managedIdentities: {
      systemAssigned: true
    }
    // All logs and metrics: ACS-side results of every Call Automation request (ACSCallAutomationIncomingOperations)
    // are how you tell an app bug from a service rejection.
    diagnosticSettings: [
      {
        workspaceResourceId: logAnalyticsWorkspaceResourceId
      }
    ]
  }
}

// Read back properties the module does not output. Outputs are evaluated after the module above has deployed.
resource acs 'Microsoft.Communication/communicationServices@2025-09-01' existing = {
  name: name
}

@description('Resource name.')
output name string = communicationService.outputs.name

@description('Resource id (the Event Grid system topic source).')
output resourceId string = communicationService.outputs.resourceId

@description('Endpoint for the Call Automation SDK (ACS_ENDPOINT).')
output endpoint string = 'https://${communicationService.outputs.endpoint}'

@description('Immutable resource id: the audience of the JWTs ACS signs callbacks with (CALLBACK_JWT_AUDIENCE).')
output immutableResourceId string = acs.properties.immutableResourceId

@description('Principal id of the system-assigned identity (role assignments on AI services and the recordings container).')
output principalId string = communicationService.outputs.?systemAssignedMIPrincipalId ?? ''
